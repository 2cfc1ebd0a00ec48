package dev.offload.core.failover;

/** The state of a backend's circuit breaker ({@link BackendLoad#circuitState(long)}). */
public enum CircuitState {
  /** Requests flow; completions are counted. */
  CLOSED,
  /** Too many failed: no request is sent until the open duration has passed. */
  OPEN,
  /** After the open duration: a bounded number of probe requests decide whether to close. */
  HALF_OPEN
}
