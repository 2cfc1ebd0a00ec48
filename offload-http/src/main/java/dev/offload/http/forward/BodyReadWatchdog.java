package dev.offload.http.forward;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Deadlines for reading a client's request body: each read must return within the idle timeout,
 * and the whole body within the overall timeout, counted from the first read.
 *
 * <p>A blocking read of a server's request stream cannot be given a timeout through either API
 * (the JDK's {@code HttpExchange} hides its socket; the Servlet API has no read timeout), so a
 * timer interrupts the thread blocked in the read. On the JDK server the stream reads from an
 * interruptible {@code SocketChannel}: the interrupt closes the client's connection and the read
 * throws {@code ClosedByInterruptException}. On Jetty the blocked read throws {@code
 * InterruptedIOException} and the connection stays open for the 408. The interrupt is delivered
 * only while the thread is inside {@link Reader#read}, under a lock, and the thread's interrupt
 * status is cleared before the read's caller sees the {@link TimeoutException}, so nothing
 * outside the read ever sees it.
 *
 * <p>Thread-safe; one timer thread (a daemon) serves every body of every forwarder by default.
 */
final class BodyReadWatchdog {
  /** Thrown by {@link Reader#read} when a deadline passed. */
  static final class TimeoutException extends InterruptedIOException {
    private static final long serialVersionUID = 1L;

    TimeoutException(String message) {
      super(message);
    }
  }

  private static final class SharedTimer {
    static final ScheduledExecutorService INSTANCE = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "offload-body-watchdog");
        t.setDaemon(true);
        return t;
      });
      timer.setRemoveOnCancelPolicy(true);
      return timer;
    }
  }

  private final long idleNanos;
  private final long totalNanos;
  private final ScheduledExecutorService timer;
  private final LongSupplier nanoTime;

  BodyReadWatchdog(Duration idle, Duration total) {
    this(idle, total, null, System::nanoTime);
  }

  /** With {@code timer} null the shared timer thread is used. */
  BodyReadWatchdog(Duration idle, Duration total, ScheduledExecutorService timer,
      LongSupplier nanoTime) {
    this.idleNanos = idle.toNanos();
    this.totalNanos = total.toNanos();
    this.timer = timer;
    this.nanoTime = nanoTime;
  }

  /** Returns a reader of {@code in} under these deadlines, the overall one starting now. */
  Reader reader(InputStream in) {
    return new Reader(in, nanoTime.getAsLong() + totalNanos);
  }

  /** Reads one body. Used by one thread; the timer only ever interrupts that thread. */
  final class Reader {
    private final InputStream in;
    private final long deadline;
    private Thread reading; // guarded by this
    private boolean fired; // guarded by this
    private long generation; // guarded by this: which read an alarm belongs to
    private String why;

    private Reader(InputStream in, long deadline) {
      this.in = in;
      this.deadline = deadline;
    }

    /**
     * Reads like {@link InputStream#read(byte[])}, within the deadlines.
     *
     * @throws TimeoutException if a deadline passed; the thread's interrupt status is clear and,
     *     on the JDK server, the client's connection is closed
     */
    int read(byte[] buffer) throws IOException {
      long left = deadline - nanoTime.getAsLong();
      if (left <= 0) {
        throw new TimeoutException("the client did not send its body within the overall timeout");
      }
      boolean overall = left <= idleNanos;
      long delay = overall ? left : idleNanos;
      long armed;
      synchronized (this) {
        reading = Thread.currentThread();
        fired = false;
        armed = ++generation;
        why = overall
            ? "the client did not send its body within the overall timeout"
            : "the client sent no body bytes within the idle timeout";
      }
      ScheduledFuture<?> alarm =
          timer().schedule(() -> fire(armed), delay, TimeUnit.NANOSECONDS);
      int n;
      IOException failure = null;
      try {
        n = in.read(buffer);
      } catch (IOException e) {
        n = -1;
        failure = e;
      } finally {
        alarm.cancel(false);
      }
      boolean timedOut;
      synchronized (this) {
        reading = null;
        timedOut = fired;
      }
      if (timedOut) {
        Thread.interrupted(); // ours, delivered inside the read: clear it
        TimeoutException timeout = new TimeoutException(why);
        if (failure != null) {
          timeout.initCause(failure);
        }
        throw timeout;
      }
      if (failure != null) {
        throw failure;
      }
      return n;
    }

    /** Interrupts the read the alarm was armed for, if it is still blocked. */
    private synchronized void fire(long armedFor) {
      if (reading != null && generation == armedFor) {
        fired = true;
        reading.interrupt();
      }
    }
  }

  private ScheduledExecutorService timer() {
    return timer != null ? timer : SharedTimer.INSTANCE;
  }
}
