package dev.offload.http;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes what a test opened (servers, backends, clients, executors), last opened first, after
 * each test, whether it passed or not; a failure to close is reported, after closing the rest.
 *
 * <pre>{@code
 * @RegisterExtension final Closer closer = new Closer();
 * Loopback.Backend b = closer.add(new Loopback.Backend());
 * }</pre>
 */
public final class Closer implements AfterEachCallback {
  private final List<AutoCloseable> opened = new ArrayList<>();

  /** Closes {@code closeable} after the test; returns it. */
  public <T extends AutoCloseable> T add(T closeable) {
    opened.add(closeable);
    return closeable;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception first = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    opened.clear();
    if (first != null) {
      throw first;
    }
  }
}
