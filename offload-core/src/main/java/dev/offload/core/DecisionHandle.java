package dev.offload.core;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The resource a {@link Decision} holds (an in-flight slot on a backend instance, a place in a
 * queue, the host's own handler at work), released by completing the handle <b>exactly once</b>
 * with what happened. The executor of the decision does it whatever happens, also when the
 * host's handler throws. The listener receives a {@link Completion}: the outcome, the failure
 * kind, the status, the bytes relayed, and the latency from the handle's creation (the decision)
 * to its completion, measured on the ticker the handle was created with (the router's).
 *
 * <pre>{@code
 * if (decision instanceof Decision.Forward forward) {
 *   try {
 *     long bytes = relay(forward);
 *     forward.handle().complete(Outcome.SUCCESS, FailureKind.NONE, 200, bytes);
 *   } catch (SocketTimeoutException e) {
 *     forward.handle().complete(Outcome.FAILURE, FailureKind.READ_TIMEOUT, 504, 0);
 *   } finally {
 *     forward.handle().tryComplete(Outcome.DROPPED, FailureKind.INTERNAL_ERROR, 0, 0);
 *   }
 * }
 * }</pre>
 *
 * <p>{@link #complete} a second time throws {@link IllegalStateException}: it means the resource
 * would be released twice, which would corrupt the load figures the router decides by. Where two
 * paths may race to complete (a timeout and a response, or a {@code finally} that completes what
 * is still open), use {@link #tryComplete}, which returns false when the handle was already
 * completed, as {@code CompletableFuture.complete} does. Thread-safe.
 */
public final class DecisionHandle {
  /** Told once, on the thread that completes the handle. Must not throw. */
  @FunctionalInterface
  public interface Listener {
    /**
     * Called once when the handle completes.
     *
     * @param completion the completion
     */
    void onComplete(Completion completion);
  }

  private static final System.Logger LOG = System.getLogger(DecisionHandle.class.getName());
  private static final Listener IGNORE = completion -> {};
  private static final VarHandle COMPLETION;
  private static final VarHandle RESPONSE_HEADERS;

  static {
    try {
      COMPLETION = MethodHandles.lookup()
          .findVarHandle(DecisionHandle.class, "completion", Completion.class);
      RESPONSE_HEADERS = MethodHandles.lookup()
          .findVarHandle(DecisionHandle.class, "responseHeaders", Headers.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Ticker ticker;
  private final long start;
  private final Listener listener;
  @SuppressWarnings("unused") // written through COMPLETION
  private volatile Completion completion;
  private volatile Headers responseHeaders = Headers.empty();
  private volatile ResponseFill responseFill = ResponseFill.NONE;
  private volatile Headers requestHeaders = Headers.empty();
  private volatile Map<AttributeKey<?>, Object> attributes = Map.of();
  private volatile PendingResponse pending;

  private DecisionHandle(Ticker ticker, Listener listener, long start) {
    this.ticker = ticker;
    this.listener = listener;
    this.start = start;
  }

  /**
   * Returns a new open handle whose latency is measured on {@code ticker} from now, and that
   * tells {@code listener} when it completes. Strategies pass the router's ticker ({@link
   * DecisionContext#ticker()}).
   *
   * @param ticker the clock
   * @param listener the listener
   * @return a new open handle whose latency is measured on {@code ticker} from now, and that tells
   *     {@code listener} when it completes
   */
  public static DecisionHandle create(Ticker ticker, Listener listener) {
    requireNonNull(ticker, "ticker");
    return new DecisionHandle(ticker, requireNonNull(listener, "listener"), ticker.read());
  }

  /**
   * Returns a new open handle whose latency is measured on {@code ticker} from {@code
   * startNanos}, a value the caller just read from that ticker (a strategy that read the clock to
   * decide saves a second read on the hot path).
   *
   * @param ticker the clock
   * @param startNanos the start nanos
   * @param listener the listener
   * @return a new open handle whose latency is measured on {@code ticker} from {@code startNanos},
   *     a value the caller just read from that ticker (a strategy that read the clock to decide
   *     saves a second read on the hot path)
   */
  public static DecisionHandle createAt(Ticker ticker, long startNanos, Listener listener) {
    return new DecisionHandle(requireNonNull(ticker, "ticker"),
        requireNonNull(listener, "listener"), startNanos);
  }

  /**
   * Returns a handle that holds nothing, measured on {@code ticker} from {@code startNanos}.
   *
   * @param ticker the clock
   * @param startNanos the start nanos
   * @return a handle that holds nothing, measured on {@code ticker} from {@code startNanos}
   */
  public static DecisionHandle createAt(Ticker ticker, long startNanos) {
    return createAt(ticker, startNanos, IGNORE);
  }

  /**
   * Returns a new open handle that holds nothing but still checks the exactly-once contract and
   * measures its latency on {@code ticker}.
   *
   * @param ticker the clock
   * @return a new open handle that holds nothing but still checks the exactly-once contract and
   *     measures its latency on {@code ticker}
   */
  public static DecisionHandle create(Ticker ticker) {
    return create(ticker, IGNORE);
  }

  /**
   * Returns a new open handle that holds nothing, measured on the system ticker.
   *
   * @return a new open handle that holds nothing, measured on the system ticker
   */
  public static DecisionHandle create() {
    return create(Ticker.systemTicker(), IGNORE);
  }

  /** Completes the handle: the work succeeded; no status or byte count known. */
  public void onSuccess() {
    complete(Outcome.SUCCESS, FailureKind.NONE, Completion.NO_STATUS, 0);
  }

  /** Completes the handle: the work failed, for a reason not given ({@link FailureKind#OTHER}). */
  public void onFailure() {
    complete(Outcome.FAILURE, FailureKind.OTHER, Completion.NO_STATUS, 0);
  }

  /** Completes the handle: the work was abandoned. */
  public void onDropped() {
    complete(Outcome.DROPPED, FailureKind.NONE, Completion.NO_STATUS, 0);
  }

  /**
   * Completes the handle with {@code outcome} and nothing else known: a failure is {@link
   * FailureKind#OTHER}.
   *
   * @param outcome the outcome
   * @throws IllegalStateException if the handle was already completed
   */
  public void complete(Outcome outcome) {
    requireNonNull(outcome, "outcome");
    complete(outcome, outcome == Outcome.FAILURE ? FailureKind.OTHER : FailureKind.NONE,
        Completion.NO_STATUS, 0);
  }

  /**
   * Completes the handle with what happened; the latency is measured now.
   *
   * @param status the HTTP status, {@link Completion#NO_STATUS} when none is known
   * @param bytes response body bytes relayed
   * @param outcome the outcome
   * @param failure the failure
   * @throws IllegalStateException if the handle was already completed (naming both outcomes)
   * @throws IllegalArgumentException for values {@link Completion} refuses
   */
  public void complete(Outcome outcome, FailureKind failure, int status, long bytes) {
    if (!tryComplete(outcome, failure, status, bytes)) {
      throw new IllegalStateException(
          "decision handle already completed with "
              + completion().map(c -> c.outcome().name()).orElse("?")
              + ", cannot complete it again with "
              + outcome
              + ": complete a handle exactly once, or use tryComplete where completions race");
    }
  }

  /**
   * Completes the handle with what happened unless it is already completed; the latency is
   * measured now. Of racing calls exactly one returns true and tells the listener.
   *
   * @param outcome the outcome
   * @param failure the failure
   * @param status the HTTP status code
   * @param bytes the number of bytes
   * @return whether this call completed the handle
   * @throws IllegalArgumentException for values {@link Completion} refuses
   */
  public boolean tryComplete(Outcome outcome, FailureKind failure, int status, long bytes) {
    if (completion != null) {
      requireNonNull(outcome, "outcome");
      requireNonNull(failure, "failure");
      return false;
    }
    Completion done = new Completion(outcome, failure, status, Math.max(0, ticker.read() - start),
        bytes);
    if (!COMPLETION.compareAndSet(this, null, done)) {
      return false;
    }
    try {
      listener.onComplete(done);
    } catch (RuntimeException e) {
      // a listener must not throw; contained so that the request is not broken by it
      LOG.log(System.Logger.Level.WARNING, "decision handle listener threw", e);
    }
    return true;
  }

  /**
   * Adds header fields for the response that executing this decision produces (the router adds
   * those that admitting guards asked for). Call before the decision is executed.
   *
   * @param headers the header fields
   * @return this handle
   */
  public DecisionHandle addResponseHeaders(Headers headers) {
    requireNonNull(headers, "headers");
    while (true) { // lock-free: concurrent adds are all kept
      Headers current = responseHeaders;
      if (RESPONSE_HEADERS.compareAndSet(this, current, current.plus(headers))) {
        return this;
      }
    }
  }

  /**
   * Returns the header fields the executor sets on the response; empty unless added.
   *
   * @return the header fields the executor sets on the response; empty unless added
   */
  public Headers responseHeaders() {
    return responseHeaders;
  }

  /**
   * Sets header fields on the request that executing this decision forwards, replacing the
   * client's fields of the same names and their underscore look-alikes ({@code X_Auth_Subject}
   * for {@code X-Auth-Subject}), matched case-insensitively (an edge cache's {@code
   * If-None-Match} to revalidate what it holds, the identity an authentication guard admitted). Only a {@link Decision.Forward} sends a request; a pass-through hands the host the
   * client's request untouched. Call before the decision is executed.
   *
   * @param headers the header fields
   * @return this handle
   */
  public DecisionHandle setRequestHeaders(Headers headers) {
    requestHeaders = requestHeaders.plus(requireNonNull(headers, "headers"));
    return this;
  }

  /**
   * Returns the fields the forwarder sets on the forwarded request; empty unless set.
   *
   * @return the fields the forwarder sets on the forwarded request; empty unless set
   */
  public Headers requestHeaders() {
    return requestHeaders;
  }

  /**
   * Attaches an attribute for whoever executes this decision: the router puts here what
   * admitting guards attached (the identity), and on a pass-through the executor hands each to
   * the host's request as a server attribute named {@link AttributeKey#name()}. Call before the
   * decision is executed.
   *
   * @param key the key
   * @param <T> the type of the value
   * @param value the value
   * @return this handle
   */
  public synchronized <T> DecisionHandle putAttribute(AttributeKey<T> key, T value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Map<AttributeKey<?>, Object> copy = new LinkedHashMap<>(attributes);
    copy.put(key, key.type().cast(value));
    attributes = Map.copyOf(copy);
    return this;
  }

  /**
   * Returns the attributes attached with {@link #putAttribute}; empty unless put.
   *
   * @return the attributes attached with {@link #putAttribute}; empty unless put
   */
  public Map<AttributeKey<?>, Object> attributes() {
    return attributes;
  }

  /**
   * Sets where the response that executing this decision produces is copied (an edge cache's
   * fill); the executor calls it as {@link ResponseFill} says. Call before the decision is
   * executed; replaces an earlier fill.
   *
   * @param fill the fill
   * @return this handle
   */
  public DecisionHandle fillResponse(ResponseFill fill) {
    this.responseFill = requireNonNull(fill, "fill");
    return this;
  }

  /**
   * Returns the fill the executor feeds; {@link ResponseFill#NONE} unless set.
   *
   * @return the fill the executor feeds; {@link ResponseFill#NONE} unless set
   */
  public ResponseFill responseFill() {
    return responseFill;
  }

  /**
   * Asks the executor to wait for {@code response}, which another request is fetching, before it
   * executes this decision, and to answer with it when it arrives. Call before the decision is
   * executed.
   *
   * @param response the response
   * @return this handle
   */
  public DecisionHandle waitFor(PendingResponse response) {
    this.pending = requireNonNull(response, "response");
    return this;
  }

  /**
   * Returns the response to wait for before executing the decision, if any.
   *
   * @return the response to wait for before executing the decision, if any
   */
  public Optional<PendingResponse> pendingResponse() {
    return Optional.ofNullable(pending);
  }

  /**
   * Returns whether the handle was completed.
   *
   * @return whether the handle was completed
   */
  public boolean isCompleted() {
    return completion != null;
  }

  /**
   * Returns the outcome, once completed.
   *
   * @return the outcome, once completed
   */
  public Optional<Outcome> outcome() {
    return completion().map(Completion::outcome);
  }

  /**
   * Returns what happened, once completed.
   *
   * @return what happened, once completed
   */
  public Optional<Completion> completion() {
    return Optional.ofNullable(completion);
  }

  @Override
  public String toString() {
    Completion c = completion;
    return c == null ? "DecisionHandle(open)" : "DecisionHandle(" + c + ")";
  }
}
