package dev.offload.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

class RedisServerTest {
  @Test
  void startsARealServerThatKeepsAcknowledgedWritesOverACrashWithTheAppendOnlyFile() {
    try (RedisServer server = RedisServer.start(true)) {
      RedisClient client = RedisClient.create(server.uri());
      try {
        try (StatefulRedisConnection<String, String> c = client.connect()) {
          assertThat(c.sync().set("k", "v")).isEqualTo("OK");
        }
        server.restart();
        try (StatefulRedisConnection<String, String> c = client.connect()) {
          assertThat(c.sync().get("k")).isEqualTo("v");
        }
      } finally {
        client.shutdown();
      }
    }
  }
}
