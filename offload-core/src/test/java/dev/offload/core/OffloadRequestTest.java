package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

  /**
   * The path of an absolute-form target starts at the first {@code /}, {@code ?} or {@code #}
   * after the authority: a slash in the query or fragment is not the path's.
   */
  @ParameterizedTest(name = "{0} -> path {1}, query {2}")
  @CsvSource(
      delimiter = '|',
      nullValues = "NONE",
      value = {
        "http://h?x=/admin | / | x=/admin",
        "http://h?x=/admin#f/g | / | x=/admin",
        "http://h#frag | / | NONE",
        "http://h#/admin | / | NONE",
        "http://h | / | NONE",
        "http://h:8080?x=1 | / | x=1",
        "http://h:8080/ | / | NONE",
        "HTTP://H/x | /x | NONE",
        "Https://h/a/b?c=d#e | /a/b | c=d",
        "http://user@h/x?y | /x | y",
        "/a?u=http://b/admin | /a | u=http://b/admin",
      })
  void absoluteFormTargetWithAnyPathQueryOrFragment(String target, String path, String query) {
    OffloadRequest r = OffloadRequest.get(target).build();
    assertThat(r.targetError()).isEmpty();
    assertThat(r.rawPath()).isEqualTo(path);
    assertThat(r.path()).isEqualTo(path);
    assertThat(r.rawQuery()).isEqualTo(Optional.ofNullable(query));
  }

  @Test
  void aSlashInTheQueryOfAnAbsoluteFormTargetIsNotRoutedAsThePath() {
    OffloadRouter router = OffloadRouter.builder()
        .route("admin", Route.prefix("/admin/"), OffloadStrategy.reject(403, "admin"))
        .build();
    assertThat(router.decide(OffloadRequest.get("http://h?x=/admin").build()))
        .isInstanceOf(Decision.PassThrough.class);
    assertThat(router.decide(OffloadRequest.get("http://h/admin?x=/").build()))
        .isInstanceOf(Decision.Reject.class);
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
