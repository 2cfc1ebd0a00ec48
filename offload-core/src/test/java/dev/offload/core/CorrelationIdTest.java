package dev.offload.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class CorrelationIdTest {
  private static final String PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  @Test
  void explainShowsTheRequestIdTheAdapterAttached() {
    OffloadRouter router = OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build();
    CorrelationId id = new CorrelationId("req-1", Optional.of(PARENT),
        CorrelationId.Source.ACCEPTED);
    Explanation explained = router.explain(
        OffloadRequest.get("/x").attribute(CorrelationId.KEY, id).build());
    assertThat(explained.inputs()).containsEntry("request id",
        "req-1 (accepted) traceparent " + PARENT);
    assertThat(explained.toString()).contains("request id=req-1 (accepted)");
  }

  @Test
  void explainWithoutAnIdShowsNone() {
    Explanation explained = OffloadRouter.builder().otherwise(OffloadStrategy.passThrough()).build().explain(OffloadRequest.get("/x")
        .build());
    assertThat(explained.inputs()).doesNotContainKey("request id");
  }

  @Test
  void refusesAnInvalidIdNamingIt() {
    assertThatThrownBy(() -> new CorrelationId("a b\u0000", Optional.empty(),
        CorrelationId.Source.GENERATED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestId: not a valid request id: 'a b?'");
    assertThatThrownBy(() -> new CorrelationId("ok", Optional.of("00-zz"),
        CorrelationId.Source.GENERATED))
        .hasMessageContaining("traceparent").hasMessageContaining("00-zz");
  }

  @Test
  void requestIdSyntaxIsBoundedInLengthAndCharset() {
    assertThat(CorrelationId.isValidRequestId("a".repeat(128))).isTrue();
    assertThat(CorrelationId.isValidRequestId("a".repeat(129))).isFalse();
    assertThat(CorrelationId.isValidRequestId("")).isFalse();
    assertThat(CorrelationId.isValidRequestId("Az09-_.:+/=@")).isTrue();
    assertThat(CorrelationId.isValidRequestId("a\r\nb")).isFalse();
    assertThat(CorrelationId.isValidRequestId("\u00e9")).isFalse();
  }

  @Test
  void traceparentIsVersion00WithNonZeroLowerHexIds() {
    assertThat(CorrelationId.isValidTraceparent(PARENT)).isTrue();
    assertThat(CorrelationId.isValidTraceparent(PARENT.toUpperCase(java.util.Locale.ROOT)))
        .isFalse();
    assertThat(CorrelationId.isValidTraceparent(PARENT.replace("b7ad6b7169203331",
        "0000000000000000"))).isFalse();
    assertThat(CorrelationId.isValidTraceparent(PARENT + "-")).isFalse();
  }
}
