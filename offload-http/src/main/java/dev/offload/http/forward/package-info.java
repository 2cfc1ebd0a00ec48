/**
 * Forwarding to backends: {@link dev.offload.http.forward.Forwarder}, a reverse proxy on OkHttp
 * that executes {@link dev.offload.core.Decision.Forward} decisions.
 */
package dev.offload.http.forward;
