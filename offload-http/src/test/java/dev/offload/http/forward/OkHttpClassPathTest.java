package dev.offload.http.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.net.URL;
import java.util.List;
import org.junit.jupiter.api.Test;

class OkHttpClassPathTest {
  private static URL jar(String name) throws Exception {
    return new URL("jar:file:/repo/" + name + ".jar!/okhttp3/OkHttpClient.class");
  }

  @Test
  void okHttp4NextToOkHttp5IsRefusedWithTheExclusionToAdd() throws Exception {
    List<URL> both = List.of(jar("okhttp-jvm-5.5.1"), jar("okhttp-4.12.0"));
    assertThat(OkHttpClassPath.problem(both, "5.5.1")).hasValueSatisfying(message ->
        assertThat(message).contains("okhttp-4.12.0.jar").contains("okhttp-jvm-5.5.1.jar")
            .contains("<exclusion><groupId>com.squareup.okhttp3</groupId>"
                + "<artifactId>okhttp</artifactId></exclusion>"));
  }

  @Test
  void okHttp4AloneIsRefused() throws Exception {
    assertThat(OkHttpClassPath.problem(List.of(jar("okhttp-4.12.0")), "4.12.0"))
        .hasValueSatisfying(message -> assertThat(message).contains("OkHttp 4.12.0")
            .contains("okhttp-jvm 5"));
  }

  @Test
  void oneOkHttp5IsFine() throws Exception {
    assertThat(OkHttpClassPath.problem(List.of(jar("okhttp-jvm-5.5.1")), "5.5.1")).isEmpty();
  }

  @Test
  void thisClassPathPassesTheCheckAtStartUp() {
    assertThatCode(OkHttpClassPath::requireOkHttp5).doesNotThrowAnyException();
    assertThatCode(() -> Forwarder.ofDefaults().close()).doesNotThrowAnyException();
  }
}
