package dev.offload.core.failover;

import java.util.concurrent.atomic.AtomicReference;

/**
 * One backend's circuit: closed, open, half-open with a bounded number of probes, on the
 * router's ticker. Lock-free: the state is one immutable value swapped by compare-and-set.
 */
final class CircuitBreaker {
  private record State(CircuitState kind, long sinceNanos, int probesTaken, int probesPassed) {}

  private final AtomicReference<State> state =
      new AtomicReference<>(new State(CircuitState.CLOSED, 0, 0, 0));

  /** The state at {@code nowNanos}: an open circuit whose time is up reads as half-open. */
  CircuitState state(CircuitBreakerConfig config, long nowNanos) {
    State s = state.get();
    if (s.kind == CircuitState.OPEN && nowNanos - s.sinceNanos >= config.openNanos) {
      return CircuitState.HALF_OPEN;
    }
    return s.kind;
  }

  /**
   * Whether a request may go to the backend now; takes a half-open probe unless {@code
   * explaining} (then it only says whether one is left).
   */
  boolean allow(CircuitBreakerConfig config, long nowNanos, boolean explaining) {
    while (true) {
      State s = state.get();
      switch (s.kind) {
        case CLOSED:
          return true;
        case OPEN:
          if (nowNanos - s.sinceNanos < config.openNanos) {
            return false;
          }
          if (explaining) {
            return true;
          }
          if (state.compareAndSet(s, new State(CircuitState.HALF_OPEN, nowNanos, 1, 0))) {
            return true;
          }
          break;
        case HALF_OPEN:
          if (s.probesTaken >= config.halfOpenProbes) {
            return false;
          }
          if (explaining) {
            return true;
          }
          if (state.compareAndSet(s,
              new State(CircuitState.HALF_OPEN, s.sinceNanos, s.probesTaken + 1, s.probesPassed))) {
            return true;
          }
          break;
        default:
          throw new AssertionError(s.kind);
      }
    }
  }

  /**
   * Feeds one completion: a half-open circuit closes after its probes pass, or opens again on a
   * failure; a closed one opens when the backend's window fails at the configured rate.
   *
   * @return the state the circuit moved to, or null if it did not move
   */
  CircuitState record(CircuitBreakerConfig config, boolean failed,
      long requests, long failures, long nowNanos) {
    if (!config.enabled) {
      return null;
    }
    while (true) {
      State s = state.get();
      State next;
      if (s.kind == CircuitState.HALF_OPEN) {
        next = failed ? new State(CircuitState.OPEN, nowNanos, 0, 0)
            : s.probesPassed + 1 >= config.halfOpenProbes
                ? new State(CircuitState.CLOSED, nowNanos, 0, 0)
                : new State(CircuitState.HALF_OPEN, s.sinceNanos, s.probesTaken,
                    s.probesPassed + 1);
      } else if (s.kind == CircuitState.CLOSED && failed && requests >= config.minimumRequests
          && failures >= config.failureRate * requests) {
        next = new State(CircuitState.OPEN, nowNanos, 0, 0);
      } else {
        return null;
      }
      if (state.compareAndSet(s, next)) {
        return next.kind == s.kind ? null : next.kind;
      }
    }
  }

  /** Gives a half-open probe back: a request was dropped (the client left) before it told. */
  void release() {
    while (true) {
      State s = state.get();
      if (s.kind != CircuitState.HALF_OPEN || s.probesTaken <= s.probesPassed) {
        return;
      }
      if (state.compareAndSet(s, new State(CircuitState.HALF_OPEN, s.sinceNanos,
          s.probesTaken - 1, s.probesPassed))) {
        return;
      }
    }
  }
}
