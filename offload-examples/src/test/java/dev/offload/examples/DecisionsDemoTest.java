package dev.offload.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DecisionsDemoTest {

  @Test
  void demoPrintsEachDecisionAndItsExplanation() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DecisionsDemo.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out)
        .contains("GET /static/app.css  =>  redirect")
        .contains("decision: redirect 302 https://cdn.example.com/static/app.css")
        .contains("POST /api/images/42/resize  =>  offload")
        .contains("GET /api/orders?page=2  =>  forward")
        .contains("GET /index.html  =>  pass_through")
        .contains("target refused: encoded dot segment escapes the root")
        .contains("guard 'blocklist' (denyWhen(403)): deny(403 blocked)")
        .contains("offload.decisions");
  }
}
