package com.example.clash;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.core.OffloadRouter;
import dev.offload.core.OffloadStrategy;
import dev.offload.http.OffloadExecutor;
import org.junit.jupiter.api.Test;

class OkHttp4ClashTest {
  @Test
  void offloadRefusesToStartNextToOkHttp4AndNamesTheExclusion() {
    OffloadRouter router = OffloadRouter.builder()
        .otherwise(OffloadStrategy.passThrough()).build();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> OffloadExecutor.of(router));
    assertTrue(e.getMessage().contains("okhttp-4.12.0.jar"), e.getMessage());
    assertTrue(e.getMessage().contains(
        "<exclusion><groupId>com.squareup.okhttp3</groupId><artifactId>okhttp</artifactId>"
            + "</exclusion>"), e.getMessage());
  }
}
