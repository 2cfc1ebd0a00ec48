package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Backend;
import dev.offload.core.Headers;
import java.net.URI;

/**
 * The request the forwarder sends to a backend, built once from the client's request after the
 * proxy rules ({@link Forwarder} lists them): the method, where it goes, and the header fields
 * that leave the gateway. Nothing in it comes from the client unchecked: the instance is the
 * decision's, the path is the normalized one, the headers are what the rules let through or
 * rebuilt. It is what a {@link ResponseObserver} (an edge cache) keys on and what a {@link
 * RetryPolicy} judges.
 *
 * @param backend the backend the decision named
 * @param instance the instance's base URI
 * @param method the request method
 * @param encodedPath the path on the backend: the instance's base path and the request's
 *     normalized path, percent-encoded
 * @param query the raw query, empty when there is none
 * @param headers the header fields sent, after the proxy rules ({@code Host} and {@code
 *     Content-Length} are added by the client library from the URL and the body)
 */
public record OutgoingRequest(
    Backend backend, URI instance, String method, String encodedPath, String query,
    Headers headers) {
  /**
   * Checks the values.
   *
   * @param backend the backend
   * @param instance the instance
   * @param method the request method
   * @param encodedPath the encoded path
   * @param query the query
   * @param headers the header fields
   */
  public OutgoingRequest {
    requireNonNull(backend, "backend");
    requireNonNull(instance, "instance");
    requireNonNull(method, "method");
    requireNonNull(encodedPath, "encodedPath");
    requireNonNull(query, "query");
    requireNonNull(headers, "headers");
  }

  /**
   * Returns the path and query as they go on the request line: {@code /a/b?x=1}.
   *
   * @return the path and query as they go on the request line: {@code /a/b?x=1}
   */
  public String target() {
    return query.isEmpty() ? encodedPath : encodedPath + '?' + query;
  }

  @Override
  public String toString() {
    return method + " " + backend.name() + " " + instance + " " + target();
  }
}
