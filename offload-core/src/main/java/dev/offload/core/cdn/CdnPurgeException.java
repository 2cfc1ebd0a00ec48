package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

/**
 * Why a purge failed, after its last attempt: a future from {@link CdnPurger} completes
 * exceptionally with it. The message says what was purged, how many attempts were made and the
 * last status or I/O failure (the cause).
 */
public final class CdnPurgeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The status of the last response, or 0 when the last attempt got none (an I/O failure). */
  private final int status;
  /** What kind of failure the last attempt was. */
  private final PurgeResult.Kind kind;
  /** How many attempts were made. */
  private final int attempts;

  /**
   * Creates the exception.
   *
   * @param cause the last I/O failure, or null when the CDN answered with {@code status}
   * @param message the message
   * @param kind the kind
   * @param attempts the attempts
   * @param status the HTTP status code
   */
  public CdnPurgeException(String message, PurgeResult.Kind kind, int attempts, int status,
      Throwable cause) {
    super(requireNonNull(message, "message"), cause);
    this.kind = requireNonNull(kind, "kind");
    this.attempts = attempts;
    this.status = status;
  }

  /**
   * Returns what the purge was by.
   *
   * @return what the purge was by
   */
  public PurgeResult.Kind kind() {
    return kind;
  }

  /**
   * Returns how many requests were sent.
   *
   * @return how many requests were sent
   */
  public int attempts() {
    return attempts;
  }

  /**
   * Returns the last response's status, 0 when the last attempt got no response.
   *
   * @return the last response's status, 0 when the last attempt got no response
   */
  public int status() {
    return status;
  }
}
