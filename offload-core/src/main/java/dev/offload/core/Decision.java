package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/**
 * What the router decided to do with one request: a plain value, one record per outcome. An
 * adapter executes it; a test asserts on it.
 *
 * <pre>{@code
 * Decision d = router.decide(request);
 * if (d instanceof Decision.Redirect redirect) {
 *   assertThat(redirect.locationUri()).hasHost("cdn.example.com");
 * }
 * }</pre>
 *
 * <p>{@link PassThrough}, {@link Forward}, {@link Offload} and {@link ServeCached} hold a
 * resource (the host's handler, a backend instance, a queue place): they are {@link Holding}
 * decisions and carry a {@link DecisionHandle} that whoever executes the decision must complete
 * exactly once, with what happened. {@link Redirect} and {@link Reject} hold nothing.
 *
 * <p>An executor must handle every {@link Kind}: dispatch with a {@code switch} over {@link
 * #kind()} whose {@code default} fails loudly, so a new kind cannot go unanswered.
 */
public sealed interface Decision
    permits Decision.Redirect, Decision.Reject, Decision.Holding {

  /** The kinds of decision; {@link #tag()} is the value of the {@code decision} metric tag. */
  enum Kind {
    /** {@link PassThrough}: the host's own handler answers. */
    PASS_THROUGH("pass_through"),
    /** {@link Redirect}: a 3xx to another location (a CDN). */
    REDIRECT("redirect"),
    /** {@link ServeCached}: answered from memory. */
    SERVE_CACHED("serve_cached"),
    /** {@link Forward}: relayed to a backend instance. */
    FORWARD("forward"),
    /** {@link Offload}: handed to a queue or worker pool. */
    OFFLOAD("offload"),
    /** {@link Reject}: refused with a status and a reason. */
    REJECT("reject");

    private final String tag;

    Kind(String tag) {
      this.tag = tag;
    }

    /**
     * Returns the lower-case name used in metrics and explanations.
     *
     * @return the lower-case name used in metrics and explanations
     */
    public String tag() {
      return tag;
    }
  }

  /**
   * Returns the kind of this decision.
   *
   * @return the kind of this decision
   */
  Kind kind();

  /**
   * A decision that holds a resource ({@link PassThrough}, {@link ServeCached}, {@link Forward},
   * {@link Offload}): its {@link #handle()} must be completed exactly once by whoever executes
   * it.
   */
  sealed interface Holding extends Decision permits PassThrough, ServeCached, Forward, Offload {
    /**
     * Returns the handle to complete exactly once.
     *
     * @return the handle to complete exactly once
     */
    DecisionHandle handle();
  }

  /**
   * Returns the decision to let the host's own handler answer, measured on the router's ticker
   * from now.
   *
   * @param context the decision context
   * @return the decision to let the host's own handler answer, measured on the router's ticker from
   *     now
   */
  static PassThrough passThrough(DecisionContext context) {
    return new PassThrough(DecisionHandle.create(requireNonNull(context, "context").ticker()));
  }

  /**
   * Returns a rejection with no extra headers.
   *
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @return a rejection with no extra headers
   */
  static Reject reject(int status, String reason) {
    return new Reject(status, reason, Headers.empty());
  }

  /**
   * Returns a rejection with response headers such as {@code Retry-After}.
   *
   * @param status the HTTP status code
   * @param reason the reason, for the problem body
   * @param headers the header fields
   * @return a rejection with response headers such as {@code Retry-After}
   */
  static Reject reject(int status, String reason, Headers headers) {
    return new Reject(status, reason, headers);
  }

  /**
   * Let the host's own handler answer, untouched. {@code handle} measures it: the executor
   * completes it with the status the host sent, the bytes it wrote and its latency, so the
   * host's own load is visible like a backend's.
   */
  record PassThrough(DecisionHandle handle) implements Holding {
    /**
     * Checks the values.
     *
     * @param handle the handle
     */
    public PassThrough {
      requireNonNull(handle, "handle");
    }

    @Override
    public Kind kind() {
      return Kind.PASS_THROUGH;
    }
  }

  /**
   * Answer with a redirect, e.g. to the CDN.
   *
   * <p>The location is kept as the string that goes into the {@code Location} header, so that
   * deciding a redirect does not parse a URI per request; {@link #locationUri()} parses it.
   *
   * @param status a 3xx status: 301, 302, 303, 307 or 308
   * @param location the absolute target, printable ASCII only (percent-encode the rest)
   * @param headers extra response headers, such as {@code Cache-Control}
   */
  record Redirect(int status, String location, Headers headers) implements Decision {
    /**
     * Checks the values.
     *
     * @param status the HTTP status code
     * @param location the location
     * @param headers the header fields
     * @throws IllegalArgumentException for another status, a location that is not absolute or
     * that holds a space, a control character or non-ASCII
     */
    public Redirect {
      requireNonNull(location, "location");
      requireNonNull(headers, "headers");
      if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
        throw new IllegalArgumentException(
            "redirect status must be 301, 302, 303, 307 or 308, got " + status);
      }
      if (!isAbsolute(location)) {
        throw new IllegalArgumentException(
            "redirect location must be an absolute URI in printable ASCII, got '" + location + "'");
      }
    }

    /**
     * A redirect to {@code location}, which must be absolute.
     *
     * @param status the HTTP status code
     * @param location the location
     * @param headers the header fields
     */
    public Redirect(int status, URI location, Headers headers) {
      this(status, requireNonNull(location, "location").toASCIIString(), headers);
    }

    /**
     * Returns the location parsed as a URI.
     *
     * @return the location parsed as a URI
     */
    public URI locationUri() {
      return URI.create(location);
    }

    @Override
    public Kind kind() {
      return Kind.REDIRECT;
    }

    /** {@code scheme ":" ...} (RFC 3986 section 3.1) with only printable ASCII after it. */
    private static boolean isAbsolute(String location) {
      int colon = location.indexOf(':');
      if (colon < 1 || !Character.isLetter(location.charAt(0))) {
        return false;
      }
      for (int i = 0; i < location.length(); i++) {
        char c = location.charAt(i);
        if (c <= ' ' || c >= 0x7f) {
          return false;
        }
        if (i < colon && !(Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.')) {
          return false;
        }
      }
      return true;
    }
  }

  /** Answer from memory with {@code response}; no backend is contacted. */
  record ServeCached(CachedResponse response, DecisionHandle handle) implements Holding {
    /**
     * Checks the values.
     *
     * @param response the response
     * @param handle the handle
     */
    public ServeCached {
      requireNonNull(response, "response");
      requireNonNull(handle, "handle");
    }

    @Override
    public Kind kind() {
      return Kind.SERVE_CACHED;
    }
  }

  /**
   * Forward the request to {@code instance} of {@code backend}; {@code handle} holds its
   * in-flight slot. Which instance is part of the decision (load balancing is decided, not done
   * inside the forwarder), so a unit test and {@code explain} see it.
   *
   * @param backend the backend: its name and timeouts
   * @param instance the base URI to send to, one of {@code backend.instances()}
   * @param handle completed exactly once with what the forward did
   */
  record Forward(Backend backend, URI instance, DecisionHandle handle) implements Holding {
    /**
     * Checks the values.
     *
     * @param backend the backend
     * @param instance the instance
     * @param handle the handle
     * @throws IllegalArgumentException if {@code instance} is not one of the backend's instances
     */
    public Forward {
      requireNonNull(backend, "backend");
      requireNonNull(instance, "instance");
      requireNonNull(handle, "handle");
      if (!backend.instances().contains(instance)) {
        throw new IllegalArgumentException("instance " + instance + " is not one of backend "
            + backend.name() + "'s instances " + backend.instances());
      }
    }

    @Override
    public Kind kind() {
      return Kind.FORWARD;
    }
  }

  /**
   * Accept the request now and run it later on the named worker pool or queue (202 + status
   * URL); {@code handle} holds the place in it.
   */
  record Offload(String queue, DecisionHandle handle) implements Holding {
    /**
     * Checks the values.
     *
     * @param queue the queue
     * @param handle the handle
     */
    public Offload {
      requireNonNull(queue, "queue");
      requireNonNull(handle, "handle");
    }

    @Override
    public Kind kind() {
      return Kind.OFFLOAD;
    }
  }

  /**
   * Refuse the request.
   *
   * @param status a 4xx or 5xx status
   * @param reason a short reason for the client; no internals
   * @param headers extra response headers, such as {@code Retry-After}; a field may repeat
   *     (two {@code WWW-Authenticate} challenges)
   */
  record Reject(int status, String reason, Headers headers) implements Decision {
    /**
     * Checks the values. ({@link Headers} already refuses names that are not tokens and values
     * holding CR, LF or NUL.)
     *
     * @param status the HTTP status code
     * @param reason the reason, for the problem body
     * @param headers the header fields
     * @throws IllegalArgumentException if {@code status} is not in 400..599
     */
    public Reject {
      requireNonNull(reason, "reason");
      requireNonNull(headers, "headers");
      if (status < 400 || status > 599) {
        throw new IllegalArgumentException("reject status must be in 400..599, got " + status);
      }
    }

    @Override
    public Kind kind() {
      return Kind.REJECT;
    }
  }
}
