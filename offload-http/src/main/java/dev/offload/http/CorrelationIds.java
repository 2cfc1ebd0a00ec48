package dev.offload.http;

import static java.util.Objects.requireNonNull;

import dev.offload.core.CorrelationId;
import dev.offload.core.Headers;
import dev.offload.http.internal.CorrelatedExchange;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Correlation ids for every request: {@code X-Request-Id} and the W3C {@code traceparent} are
 * accepted only from {@linkplain OffloadExecutor.Builder#trustedProxies trusted proxies} and
 * generated otherwise, passed to backends (and to the host and offload handlers as the request
 * attribute {@link CorrelationId#KEY}), returned to the client in {@code X-Request-Id} on every
 * answer (forwarded, cached, redirected, rejected, passed through), and shown by {@code explain}.
 *
 * <pre>{@code
 * OffloadExecutor executor = OffloadExecutor.builder(router)
 *     .trustedProxies("10.0.0.0/8")
 *     .correlationIds(CorrelationIds.standard())
 *     .build();
 * }</pre>
 *
 * <p>Rules, per request:
 *
 * <ul>
 *   <li>From a trusted proxy, one {@code X-Request-Id} field whose value passes {@link
 *       CorrelationId#isValidRequestId} (1 to 128 characters of letters, digits and {@code
 *       -_.:+/=@}) is kept; anything else (repeated, too long, other characters) is replaced.
 *       Likewise one valid version-00 {@code traceparent} is kept, with its {@code tracestate}
 *       (one field of at most 512 characters, else dropped).
 *   <li>From anyone else, both are dropped ({@code tracestate} too) and replaced: a client cannot
 *       choose the id under which its request is logged, nor join someone else's trace.
 *   <li>A generated request id is 128 bits from a {@link SecureRandom} (per thread, so no lock
 *       is shared), as 32 lower-case hex digits; a generated {@code traceparent} uses the same
 *       digits as its trace-id, so logs join on either, with a random parent-id and flags
 *       {@code 00}.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class CorrelationIds {
  /** The header that carries the request id, in requests and responses. */
  public static final String REQUEST_ID = "X-Request-Id";
  /** The W3C Trace Context header. */
  public static final String TRACEPARENT = "traceparent";
  /** The W3C Trace Context vendor header, passed on only with an accepted {@code traceparent}. */
  public static final String TRACESTATE = "tracestate";
  /** The longest {@code tracestate} passed on, in characters (the W3C limit is 32 members). */
  public static final int MAX_TRACESTATE_LENGTH = 512;

  private static final CorrelationIds OFF = new CorrelationIds(false);
  private static final CorrelationIds STANDARD = new CorrelationIds(true);
  private static final HexFormat HEX = HexFormat.of();
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(SecureRandom::new);

  private final boolean enabled;

  private CorrelationIds(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * Returns correlation ids as described above.
   *
   * @return the standard correlation ids
   */
  public static CorrelationIds standard() {
    return STANDARD;
  }

  /**
   * Returns no correlation ids: the headers pass as for any other field. The executor's default.
   *
   * @return correlation ids switched off
   */
  public static CorrelationIds off() {
    return OFF;
  }

  /**
   * Returns whether ids are resolved at all.
   *
   * @return false for {@link #off()}
   */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Resolves the correlation ids of one request from its headers.
   *
   * @param trustedPeer whether the request came from a trusted proxy
   * @param headers the request's headers as received
   * @return the ids to use for this request
   * @throws NullPointerException if {@code headers} is null
   */
  public CorrelationId resolve(boolean trustedPeer, Headers headers) {
    requireNonNull(headers, "headers");
    List<String> ids = headers.all(REQUEST_ID);
    List<String> parents = headers.all(TRACEPARENT);
    String requestId = null;
    String traceparent = null;
    if (trustedPeer) {
      if (ids.size() == 1 && CorrelationId.isValidRequestId(ids.get(0))) {
        requestId = ids.get(0);
      }
      if (parents.size() == 1 && CorrelationId.isValidTraceparent(parents.get(0))) {
        traceparent = parents.get(0);
      }
    }
    CorrelationId.Source source = requestId != null ? CorrelationId.Source.ACCEPTED
        : ids.isEmpty() ? CorrelationId.Source.GENERATED : CorrelationId.Source.REPLACED;
    if (requestId == null || traceparent == null) {
      byte[] random = new byte[24];
      RANDOM.get().nextBytes(random);
      String traceId = HEX.formatHex(random, 0, 16);
      if (requestId == null) {
        requestId = traceId;
      }
      if (traceparent == null) {
        traceparent = "00-" + traceId + "-" + HEX.formatHex(random, 16, 24) + "-00";
        if (!CorrelationId.isValidTraceparent(traceparent)) { // all-zero ids: 2^-64
          return resolve(false, Headers.empty());
        }
      }
    }
    return new CorrelationId(requestId, Optional.of(traceparent), source);
  }

  /**
   * Returns {@code headers} with the correlation headers replaced by {@code id}'s: what the
   * router and the backends see. A {@code tracestate} is kept only when {@code id}'s {@code
   * traceparent} is the one received.
   *
   * @param headers the request's headers as received
   * @param id the resolved ids
   * @return the headers to route and forward
   * @throws NullPointerException if an argument is null
   */
  public Headers rewrite(Headers headers, CorrelationId id) {
    requireNonNull(headers, "headers");
    requireNonNull(id, "id");
    Headers.Builder b = headers.toBuilder().set(REQUEST_ID, id.requestId());
    List<String> states = headers.all(TRACESTATE);
    boolean keptParent = id.traceparent().isPresent()
        && headers.all(TRACEPARENT).equals(List.of(id.traceparent().get()));
    if (!keptParent || states.size() != 1 || states.get(0).length() > MAX_TRACESTATE_LENGTH) {
      b.remove(TRACESTATE);
    }
    id.traceparent().ifPresentOrElse(t -> b.set(TRACEPARENT, t), () -> b.remove(TRACEPARENT));
    return b.build();
  }

  /** Wraps an exchange; {@code exchange} itself when switched off. */
  ServerExchange wrap(ServerExchange exchange, TrustedProxies trustedProxies) {
    return enabled ? new CorrelatedExchange(exchange, this,
        trustedProxies.contains(exchange.remoteAddress().getAddress())) : exchange;
  }

  @Override
  public String toString() {
    return enabled ? "CorrelationIds.standard()" : "CorrelationIds.off()";
  }
}
