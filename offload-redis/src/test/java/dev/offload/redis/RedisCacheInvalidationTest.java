package dev.offload.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.core.Backend;
import dev.offload.core.BodySink;
import dev.offload.core.Decision;
import dev.offload.core.Headers;
import dev.offload.core.OffloadRequest;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.cache.EdgeCache;
import dev.offload.core.cache.Purge;
import dev.offload.core.cdn.CdnStrategy;
import dev.offload.core.testing.FakeTicker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Three instances' edge caches sharing purges through one real Redis. */
class RedisCacheInvalidationTest {
  private static final Headers FRESH =
      Headers.of("Cache-Control", "max-age=600", "Surrogate-Key", "product-1");

  private final FakeTicker ticker = new FakeTicker();
  private final Backend origin = Backend.of("origin", URI.create("http://127.0.0.1:9"));
  private final List<AutoCloseable> closing = new ArrayList<>();
  private RedisServer redis;
  private RedisClient client;

  /** One gateway instance: its cache, its router, its invalidation. */
  private final class Instance {
    final EdgeCache cache = EdgeCache.builder().ticker(ticker).build();
    final OffloadRouter router = OffloadRouter.builder().ticker(ticker)
        .route("img", Route.prefix("/img/"), CdnStrategy.edgeCache(cache).from(origin))
        .build();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final RedisCacheInvalidation fleet;

    Instance() {
      fleet = RedisCacheInvalidation.builder(client, cache).meterRegistry(registry).start();
      closing.add(fleet);
    }

    /** Fills the cache with {@code target}'s answer, as the executor would. */
    void fill(String target) {
      Decision.Holding miss = (Decision.Holding) router.decide(get(target));
      byte[] body = target.getBytes(UTF_8);
      BodySink sink = miss.handle().responseFill().onResponse(200, FRESH, body.length);
      sink.write(body, 0, body.length);
      sink.complete();
      miss.handle().onSuccess();
    }

    boolean cached(String target) {
      return router.decide(get(target)) instanceof Decision.ServeCached;
    }

    double counted(String event) {
      return registry.get("offload.redis.invalidations").tag("event", event).counter().count();
    }
  }

  private static OffloadRequest get(String target) {
    return OffloadRequest.get(target).header("Host", "shop.example").build();
  }

  @BeforeEach
  void startRedis() {
    redis = RedisServer.start();
    client = RedisClient.create(redis.uri());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    client.shutdown();
    redis.close();
  }

  private static void await(CompletableFuture<?> future) throws Exception {
    future.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aPurgeOnOneInstanceEmptiesTheOthers() throws Exception {
    List<Instance> fleet = List.of(new Instance(), new Instance(), new Instance());
    for (Instance i : fleet) {
      i.fill("/img/a.png");
      i.fill("/img/b.png");
      assertThat(i.cached("/img/a.png")).isTrue();
    }
    fleet.get(0).cache.purge("shop.example", "/img/a.png");
    long version = fleet.get(0).fleet.lastPublish().get(10, TimeUnit.SECONDS);
    for (Instance i : fleet) {
      await(i.fleet.received(version));
      assertThat(i.cached("/img/a.png")).as("a.png purged everywhere").isFalse();
      assertThat(i.cached("/img/b.png")).as("b.png kept").isTrue();
    }
    fleet.get(2).cache.purgeTag("product-1"); // by tag, from another instance
    version = fleet.get(2).fleet.lastPublish().get(10, TimeUnit.SECONDS);
    for (Instance i : fleet) {
      await(i.fleet.received(version));
      assertThat(i.cache.size()).isZero();
      assertThat(i.counted("received")).isEqualTo(2);
      assertThat(i.counted("resync")).isZero();
    }
    assertThat(fleet.get(0).counted("published")).isEqualTo(1);
  }

  @Test
  void aLateMessageCannotLeaveAResponseFetchedBeforeTheWrite() throws Exception {
    Instance a = new Instance();
    Instance b = new Instance();
    Decision.Holding fetchingOld = (Decision.Holding) b.router.decide(get("/img/a.png"));
    a.cache.purge("shop.example", "/img/a.png"); // the write, seen on instance a
    await(b.fleet.received(a.fleet.lastPublish().get(10, TimeUnit.SECONDS)));
    byte[] old = "old".getBytes(UTF_8);
    BodySink sink = fetchingOld.handle().responseFill().onResponse(200, FRESH, old.length);
    sink.write(old, 0, old.length);
    sink.complete(); // b's fetch ends after the purge reached it
    fetchingOld.handle().onSuccess();
    assertThat(b.cached("/img/a.png")).isFalse();
  }

  @Test
  void aSkippedVersionEmptiesTheCacheRatherThanMissAPurge() throws Exception {
    Instance a = new Instance();
    Instance b = new Instance();
    b.fill("/img/unrelated.png");
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().incrby(RedisCacheInvalidation.DEFAULT_CHANNEL + ":version", 3); // three lost
    }
    a.cache.purge("shop.example", "/img/a.png");
    await(b.fleet.received(a.fleet.lastPublish().get(10, TimeUnit.SECONDS)));
    assertThat(b.cached("/img/unrelated.png")).isFalse();
    assertThat(b.counted("resync")).isEqualTo(1);
  }

  @Test
  void aPurgeMadeWhileRedisIsAwayIsPublishedWhenItIsBackAndSubscribersResync()
      throws Exception {
    Instance a = new Instance();
    Instance b = new Instance();
    b.fill("/img/kept-until-resync.png");
    redis.kill();
    a.cache.purgeTag("product-9"); // applied on a at once; Redis does not take it
    assertThat(a.fleet.lastPublish()).failsWithin(10, TimeUnit.SECONDS);

    redis.restart();
    StatefulRedisPubSubConnection<String, String> watcher = client.connectPubSub();
    closing.add(watcher::close);
    CompletableFuture<String> replayed = new CompletableFuture<>();
    CountDownLatch subscribed = new CountDownLatch(1);
    watcher.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String channel, String message) {
        replayed.complete(message);
      }

      @Override
      public void subscribed(String channel, long count) {
        subscribed.countDown();
      }
    });
    watcher.sync().subscribe(RedisCacheInvalidation.DEFAULT_CHANNEL);
    assertThat(subscribed.await(10, TimeUnit.SECONDS)).isTrue();
    // a re-subscribes by itself (Lettuce reconnects) and sends what it kept
    assertThat(replayed.get(60, TimeUnit.SECONDS)).endsWith(
        RedisCacheInvalidation.encode(Purge.tag("product-9")));
    b.fleet.received(1).get(60, TimeUnit.SECONDS); // b reconnects on its own schedule too
    assertThat(b.cached("/img/kept-until-resync.png"))
        .as("b may have missed purges while away: emptied").isFalse();
    assertThat(b.counted("resync")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void purgesSurviveTheWireWhateverTheirText() {
    for (Purge p : List.of(Purge.url("Shop.Example", "/a b?x=1 2"), Purge.prefix("/img/ x"),
        Purge.tag("t 1"), Purge.all())) {
      assertThat(RedisCacheInvalidation.decode(RedisCacheInvalidation.encode(p))).isEqualTo(p);
    }
  }
}
