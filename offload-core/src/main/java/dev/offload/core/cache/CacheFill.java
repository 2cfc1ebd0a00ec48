package dev.offload.core.cache;

import dev.offload.core.BodySink;
import dev.offload.core.CachedResponse;
import dev.offload.core.Headers;
import dev.offload.core.ResponseFill;
import java.util.Arrays;
import java.util.Optional;

/**
 * Fills the cache from the response to one request that missed: decides from the head whether the
 * response may be stored, keeps its body up to {@code maxObjectBytes}, and stores it only when the
 * body ended as framed. Whatever happens, it ends the coalesced fetch it leads, so that the
 * requests waiting for it stop waiting.
 */
final class CacheFill implements ResponseFill {
  private final EdgeCache cache;
  private final CacheKey key;
  private final String method;
  private final Headers request;
  private final long requestTimeNanos;
  private final EdgeCache.Fetch fetch;
  private final StoredResponse stale;
  private final long purgeEpoch;

  /**
   * A fill of {@code key}'s response to this request; {@code stale} (or null) is the stale stored
   * response it replaces, answered instead of an origin failure while {@code stale-if-error}
   * allows.
   */
  CacheFill(EdgeCache cache, CacheKey key, String method, Headers request,
      long requestTimeNanos, EdgeCache.Fetch fetch, StoredResponse stale) {
    this.stale = stale;
    this.cache = cache;
    this.key = key;
    this.method = method;
    this.request = request;
    this.requestTimeNanos = requestTimeNanos;
    this.fetch = fetch;
    this.purgeEpoch = cache.purgeEpoch();
  }

  @Override
  public BodySink onResponse(int status, Headers headers, long contentLength) {
    long responseTime = cache.ticker().read();
    String refusal = StoredResponse.responseRefusal(method, request, status, headers,
        contentLength, cache.maxObjectBytes());
    if (refusal != null) {
      cache.finish(fetch);
      return BodySink.NONE;
    }
    return new Keeper(status, headers, contentLength, responseTime);
  }

  @Override
  public Optional<CachedResponse> onOriginFailure(int status) {
    if (stale == null) {
      return Optional.empty();
    }
    long now = cache.ticker().read();
    if (!stale.usableOnError(now)) {
      return Optional.empty();
    }
    cache.record(CacheStatus.STALE);
    return Optional.of(stale.servedStale(now));
  }

  /**
   * The origin confirmed the stale response (RFC 9111 section 4.3.4): its fields are updated with
   * those of the 304, it is stored again as received now, and this client is answered from it (a
   * 304 when its own preconditions match).
   */
  @Override
  public Optional<CachedResponse> onNotModified(Headers notModified) {
    if (stale == null) {
      return Optional.empty();
    }
    long now = cache.ticker().read();
    Headers.Builder merged = stale.response.headers().toBuilder();
    for (String name : notModified.names()) {
      if (!name.equalsIgnoreCase("Content-Length")) {
        merged.remove(name);
      }
    }
    for (int i = 0; i < notModified.size(); i++) {
      if (!notModified.name(i).equalsIgnoreCase("Content-Length")) {
        merged.add(notModified.name(i), notModified.value(i));
      }
    }
    Headers headers = merged.build();
    CachedResponse body = stale.response;
    StoredResponse fresh = StoredResponse.of(key, request, body.status(), headers, bytes(body),
        requestTimeNanos, now);
    if (StoredResponse.responseRefusal(method, request, body.status(), headers,
        body.bodyLength(), cache.maxObjectBytes()) == null) {
      cache.store(fresh, purgeEpoch);
    }
    cache.record(CacheStatus.REVALIDATED);
    CachedResponse answer = Conditionals.notModified(request, fresh)
        ? fresh.notModified : fresh.response;
    return Optional.of(answer.withHeaders(answer.headers().plus(Headers.of("Age",
        fresh.ageSeconds(now), CacheStatus.HEADER, CacheStatus.REVALIDATED.name()))));
  }

  private static byte[] bytes(CachedResponse response) {
    java.nio.ByteBuffer body = response.body();
    byte[] bytes = new byte[body.remaining()];
    body.get(bytes);
    return bytes;
  }

  @Override
  public void onNoResponse() {
    cache.finish(fetch);
  }

  /** Keeps one body, up to the cache's limit; stores it when it is complete. */
  private final class Keeper implements BodySink {
    private final int status;
    private final Headers headers;
    private final long contentLength;
    private final long responseTime;
    private byte[] body;
    private int size;
    private boolean ended;

    Keeper(int status, Headers headers, long contentLength, long responseTime) {
      this.status = status;
      this.headers = headers;
      this.contentLength = contentLength;
      this.responseTime = responseTime;
      this.body = new byte[(int) Math.max(0, Math.min(contentLength < 0 ? 8192 : contentLength,
          cache.maxObjectBytes()))];
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
      if (body == null) {
        return; // over the limit: streamed through, not kept
      }
      if ((long) size + length > cache.maxObjectBytes()) {
        body = null;
        return;
      }
      if (size + length > body.length) {
        body = Arrays.copyOf(body, (int) Math.min(cache.maxObjectBytes(),
            Math.max((long) body.length * 2, (long) size + length)));
      }
      System.arraycopy(bytes, offset, body, size, length);
      size += length;
    }

    @Override
    public void complete() {
      if (ended) {
        return;
      }
      ended = true;
      try {
        if (body != null && (contentLength < 0 || size == contentLength)) {
          cache.store(StoredResponse.of(key, request, status, headers,
              size == body.length ? body : Arrays.copyOf(body, size), requestTimeNanos,
              responseTime), purgeEpoch);
        }
      } finally {
        cache.finish(fetch);
      }
    }

    @Override
    public void abort() {
      if (!ended) {
        ended = true;
        body = null;
        cache.finish(fetch);
      }
    }
  }
}
