package dev.offload.core;

/**
 * Why the work behind a {@link DecisionHandle} did not succeed, as far as the executor could tell.
 * Load, health, outlier detection and retry budgets read it from the {@link Completion}.
 */
public enum FailureKind {
  /** Nothing failed. */
  NONE("none"),
  /** The backend refused the connection (nothing listening, or a reset on connect). */
  CONNECT_REFUSED("connect_refused"),
  /** The connection to the backend was not established in time. */
  CONNECT_TIMEOUT("connect_timeout"),
  /** The backend did not send the next bytes of its response in time, or the call timed out. */
  READ_TIMEOUT("read_timeout"),
  /** The connection broke: reset, or the response was cut short (a truncated body). */
  RESET("reset"),
  /** The backend answered with something that is not a valid HTTP response. */
  BAD_RESPONSE("bad_response"),
  /** The backend answered with a 5xx status. */
  SERVER_ERROR("server_error"),
  /** The client went away, or could not be written to, before the answer was complete. */
  CLIENT_GONE("client_gone"),
  /**
   * The gateway refused the work itself (a body over the limit, an unreadable body, a client too
   * slow to send its body, no handler): the backend was not at fault.
   */
  REJECTED_LOCALLY("rejected_locally"),
  /** An unexpected error in the gateway or in the host's handler. */
  INTERNAL_ERROR("internal_error"),
  /** A failure that its reporter did not classify ({@link DecisionHandle#onFailure()}). */
  OTHER("other");

  private final String tag;

  FailureKind(String tag) {
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

  /**
   * Returns whether this failure counts against the backend's health (not the client's doing).
   *
   * @return whether this failure counts against the backend's health (not the client's doing)
   */
  public boolean blamesBackend() {
    return switch (this) {
      case CONNECT_REFUSED, CONNECT_TIMEOUT, READ_TIMEOUT, RESET, BAD_RESPONSE, SERVER_ERROR,
          OTHER -> true;
      case NONE, CLIENT_GONE, REJECTED_LOCALLY, INTERNAL_ERROR -> false;
    };
  }
}
