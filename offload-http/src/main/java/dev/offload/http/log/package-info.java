/**
 * The access log: one structured JSON line per request, written off the request's thread
 * ({@link dev.offload.http.log.AccessLog}) to a {@link dev.offload.http.log.AccessLogSink}.
 */
package dev.offload.http.log;
