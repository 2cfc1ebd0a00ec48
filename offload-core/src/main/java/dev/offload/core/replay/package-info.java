/**
 * Traffic replay: feeds a recorded access log through an {@link dev.offload.core.OffloadRouter}
 * on a simulated clock against simulated backends, and reports what the routing does to them
 * (requests per decision kind, offload ratio, request rate, in-flight, latency over time) and how
 * many instances each backend needs. No I/O apart from reading the log.
 */
package dev.offload.core.replay;
