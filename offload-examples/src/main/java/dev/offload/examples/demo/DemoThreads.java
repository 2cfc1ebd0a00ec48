package dev.offload.examples.demo;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named daemon threads for the demo's pools, so a thread dump says whose a thread is. */
final class DemoThreads {
  private DemoThreads() {}

  /** Returns a factory of daemon threads named {@code prefix-1}, {@code prefix-2}, .... */
  static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + "-" + n.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
