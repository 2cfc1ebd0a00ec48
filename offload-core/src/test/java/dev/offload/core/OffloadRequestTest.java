package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OffloadRequestTest {
  private static final AttributeKey<String> USER = AttributeKey.of("user", String.class);

  @Test
  void parsesTargetIntoPathAndQuery() {
    OffloadRequest r = OffloadRequest.get("/search?q=a+b&tag=x&tag=y&empty&enc=%2F").build();
    assertThat(r.path()).isEqualTo("/search");
    assertThat(r.rawQuery()).hasValue("q=a+b&tag=x&tag=y&empty&enc=%2F");
    assertThat(r.queryParameter("q")).hasValue("a b");
    assertThat(r.queryParameters().get("tag")).containsExactly("x", "y");
    assertThat(r.queryParameter("empty")).hasValue("");
    assertThat(r.queryParameter("enc")).hasValue("/");
    assertThat(r.queryParameter("missing")).isEmpty();
  }

  @Test
  void absoluteFormTargetKeepsOnlyPathAndQuery() {
    OffloadRequest r = OffloadRequest.get("http://evil.example:8080/admin?x=1").build();
    assertThat(r.path()).isEqualTo("/admin");
    assertThat(r.rawQuery()).hasValue("x=1");
    assertThat(r.host()).isEmpty();
  }

  @Test
  void headersAreCaseInsensitiveAndKeepRepeats() {
    OffloadRequest r = OffloadRequest.get("/")
        .header("Accept", "text/css")
        .header("ACCEPT", "text/*")
        .header("Host", "Example.COM:8443")
        .build();
    assertThat(r.header("accept")).hasValue("text/css");
    assertThat(r.headers().all("Accept")).containsExactly("text/css", "text/*");
    assertThat(r.headers().contains("host")).isTrue();
    assertThat(r.host()).isEqualTo("example.com");
  }

  @Test
  void headerValuesWithCrLfAreRefused() {
    assertThatThrownBy(() -> OffloadRequest.get("/").header("X-A", "a\r\nSet-Cookie: x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("X-A");
    assertThatThrownBy(() -> OffloadRequest.get("/").header("Bad Name", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Bad Name");
  }

  @Test
  void methodMustBeAToken() {
    assertThatThrownBy(() -> OffloadRequest.builder("GET /x", "/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GET /x");
  }

  @Test
  void clientAddressIsAnIpLiteralWithoutDns() {
    assertThat(OffloadRequest.get("/").clientAddress("203.0.113.9").build().clientAddress()
            .getHostAddress())
        .isEqualTo("203.0.113.9");
    assertThatThrownBy(() -> OffloadRequest.get("/").clientAddress("localhost"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("clientAddress must be an IP literal, got 'localhost'");
  }

  @Test
  void schemeIsHttpOrHttps() {
    assertThat(OffloadRequest.get("/").scheme("HTTPS").build().scheme()).isEqualTo("https");
    assertThatThrownBy(() -> OffloadRequest.get("/").scheme("ftp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ftp");
  }

  @Test
  void withAttributeReturnsACopy() {
    OffloadRequest r = OffloadRequest.get("/").build();
    OffloadRequest withUser = r.withAttribute(USER, "alice");
    assertThat(withUser.attribute(USER)).hasValue("alice");
    assertThat(r.attribute(USER)).isEmpty();
    assertThat(withUser.path()).isEqualTo(r.path());
  }

  @Test
  void bodyIsOpenedOnlyByItsConsumer() throws IOException {
    AtomicInteger opened = new AtomicInteger();
    byte[] bytes = "payload".getBytes(StandardCharsets.UTF_8);
    OffloadRequest r = OffloadRequest.post("/upload")
        .body(() -> {
          opened.incrementAndGet();
          return new java.io.ByteArrayInputStream(bytes);
        })
        .build();
    OffloadRouter router = OffloadRouter.builder()
        .route(Route.post("/upload"), OffloadStrategy.passThrough())
        .build();
    router.decide(r);
    router.explain(r);
    assertThat(opened).hasValue(0);
    try (InputStream in = r.body().open()) {
      assertThat(in.readAllBytes()).isEqualTo(bytes);
    }
    assertThat(opened).hasValue(1);
  }

  @Test
  void contentLengthIsParsedWhenValid() {
    assertThat(OffloadRequest.post("/").header("Content-Length", "12").build().contentLength())
        .hasValue(12);
    assertThat(OffloadRequest.post("/").header("Content-Length", "x").build().contentLength())
        .isEmpty();
    assertThat(OffloadRequest.post("/").build().contentLength()).isEmpty();
  }

  @Test
  void headersToMapGroupsByLowerCaseName() {
    Headers h = Headers.of("A", "1", "b", "2", "a", "3");
    assertThat(h.toMap()).containsEntry("a", List.of("1", "3")).containsEntry("b", List.of("2"));
    assertThat(h.toBuilder().set("A", "9").build().all("a")).containsExactly("9");
    assertThat(h.toBuilder().remove("a").build().size()).isEqualTo(1);
    assertThat(h.names()).containsExactly("a", "b");
  }
}
