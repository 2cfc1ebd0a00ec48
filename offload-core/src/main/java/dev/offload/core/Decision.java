package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Map;

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
 * <p>{@link Forward}, {@link Offload} and {@link ServeCached} hold a resource: they are {@link
 * Holding} decisions and carry a {@link DecisionHandle} that whoever executes the decision must
 * complete exactly once. {@link PassThrough}, {@link Redirect} and {@link Reject} hold nothing.
 */
public sealed interface Decision
    permits Decision.PassThrough, Decision.Redirect, Decision.Reject, Decision.Holding {

  /** The kinds of decision; {@link #tag()} is the value of the {@code decision} metric tag. */
  enum Kind {
    PASS_THROUGH("pass_through"),
    REDIRECT("redirect"),
    SERVE_CACHED("serve_cached"),
    FORWARD("forward"),
    OFFLOAD("offload"),
    REJECT("reject");

    private final String tag;

    Kind(String tag) {
      this.tag = tag;
    }

    /** Returns the lower-case name used in metrics and explanations. */
    public String tag() {
      return tag;
    }
  }

  /** Returns the kind of this decision. */
  Kind kind();

  /**
   * A decision that holds a resource ({@link ServeCached}, {@link Forward}, {@link Offload}): its
   * {@link #handle()} must be completed exactly once by whoever executes it.
   */
  sealed interface Holding extends Decision permits ServeCached, Forward, Offload {
    /** Returns the handle to complete exactly once. */
    DecisionHandle handle();
  }

  /** Returns the decision to let the host's own handler answer. */
  static PassThrough passThrough() {
    return PassThrough.INSTANCE;
  }

  /** Returns a rejection with no extra headers. */
  static Reject reject(int status, String reason) {
    return new Reject(status, reason, Map.of());
  }

  /** Let the host's own handler answer, untouched. */
  record PassThrough() implements Decision {
    static final PassThrough INSTANCE = new PassThrough();

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
     * @throws IllegalArgumentException for another status, a location that is not absolute or
     *     that holds a space, a control character or non-ASCII
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

    /** A redirect to {@code location}, which must be absolute. */
    public Redirect(int status, URI location, Headers headers) {
      this(status, requireNonNull(location, "location").toASCIIString(), headers);
    }

    /** Returns the location parsed as a URI. */
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
    /** Checks the values. */
    public ServeCached {
      requireNonNull(response, "response");
      requireNonNull(handle, "handle");
    }

    @Override
    public Kind kind() {
      return Kind.SERVE_CACHED;
    }
  }

  /** Forward the request to {@code backend}; {@code handle} holds its in-flight slot. */
  record Forward(Backend backend, DecisionHandle handle) implements Holding {
    /** Checks the values. */
    public Forward {
      requireNonNull(backend, "backend");
      requireNonNull(handle, "handle");
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
    /** Checks the values. */
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
   * @param headers extra response headers, such as {@code Retry-After}
   */
  record Reject(int status, String reason, Map<String, String> headers) implements Decision {
    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if {@code status} is not in 400..599, a header name is not
     *     a token or a header value holds CR, LF or NUL
     */
    public Reject {
      requireNonNull(reason, "reason");
      headers = Map.copyOf(requireNonNull(headers, "headers"));
      Headers.Builder check = Headers.builder(); // names are tokens, values hold no CR/LF/NUL
      headers.forEach(check::add);
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
