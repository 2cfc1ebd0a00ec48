package dev.offload.http.servlet;

import java.io.IOException;

/**
 * Thrown by {@link OffloadFilter#doFilter} after the exchange was aborted (for example a backend
 * reset the connection in the middle of a relayed body), so that the container aborts the
 * client's connection instead of ending a truncated response cleanly. A host filter outside ours
 * that catches {@link IOException} must rethrow it, or the abort turns into a clean end.
 */
final class AbortedExchangeException extends IOException {
  private static final long serialVersionUID = 1L;

  AbortedExchangeException(String message) {
    super(message);
  }
}
