/**
 * The test kit of the HTTP module, shipped in main code so that users can unit-test an {@link
 * dev.offload.http.OffloadHandler}, a host handler or a whole {@link
 * dev.offload.http.OffloadExecutor} in-process, without a server or a socket: {@link
 * dev.offload.http.testing.RecordingExchange}. Pair it with {@link
 * dev.offload.core.testing.FakeTicker} for the router's clock.
 */
package dev.offload.http.testing;
