/**
 * The HTTP side of offloaded tasks: {@link dev.offload.http.async.TaskEndpoint} answers 202 with
 * a status URL, serves the status documents, replays results and cancels.
 */
package dev.offload.http.async;
