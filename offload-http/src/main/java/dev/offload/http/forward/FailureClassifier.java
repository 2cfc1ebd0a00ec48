package dev.offload.http.forward;

import dev.offload.core.FailureKind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.util.Locale;

/** Names the {@link FailureKind} of an I/O failure of a backend call, as OkHttp reports it. */
final class FailureClassifier {
  private FailureClassifier() {}

  static FailureKind classify(IOException e) {
    if (e instanceof ConnectException) {
      return e.getCause() instanceof SocketTimeoutException
          ? FailureKind.CONNECT_TIMEOUT : FailureKind.CONNECT_REFUSED;
    }
    if (e instanceof SocketTimeoutException) {
      String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      return message.contains("connect") ? FailureKind.CONNECT_TIMEOUT : FailureKind.READ_TIMEOUT;
    }
    if (isTimeout(e)) {
      return FailureKind.READ_TIMEOUT; // the call timeout
    }
    if (e instanceof InterruptedIOException) {
      return FailureKind.INTERNAL_ERROR; // our thread was interrupted
    }
    if (e instanceof ProtocolException) {
      return FailureKind.BAD_RESPONSE;
    }
    return FailureKind.RESET; // end of stream or reset: what a dead pooled connection gives
  }

  /**
   * OkHttp reports a call timeout as an {@code InterruptedIOException("timeout")}, socket
   * timeouts as {@link SocketTimeoutException} (a subclass).
   */
  static boolean isTimeout(IOException e) {
    return e instanceof SocketTimeoutException
        || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()));
  }
}
