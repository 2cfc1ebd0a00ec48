package dev.offload.http;

import dev.offload.core.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * One HTTP exchange as the host's server presents it. Each adapter (JDK {@code HttpServer},
 * Jakarta Servlet) implements this thin view over its own request and response, and the one
 * server-agnostic {@link OffloadExecutor} does the rest: adapters only translate.
 *
 * <p>Not thread-safe: one exchange is used by one thread at a time.
 */
public interface ServerExchange {
  /**
   * Returns the request method as received, e.g. {@code GET}.
   *
   * @return the request method as received, e.g
   */
  String method();

  /**
   * Returns the request target as received on the request line: origin-form ({@code
   * /path?query}, still percent-encoded) or absolute-form ({@code http://host/path}).
   *
   * @return the request target as received on the request line: origin-form ({@code /path?query},
   *     still percent-encoded) or absolute-form ({@code http://host/path})
   */
  String requestTarget();

  /**
   * Returns the protocol version of the request line in upper case, e.g. {@code HTTP/1.1} or
   * {@code HTTP/1.0}, as the server parsed it.
   *
   * @return the protocol version of the request line in upper case, e.g
   */
  String protocol();

  /**
   * Returns every request header field as received; a repeated name appears repeatedly. Values
   * hold one char per octet received (ISO-8859-1), as both the JDK server and Jetty decode them:
   * the forwarder relies on it to relay octets above 0x7f unchanged.
   *
   * @return every request header field as received; a repeated name appears repeatedly
   */
  Headers requestHeaders();

  /**
   * Returns the address of the socket peer (the client, or the proxy in front of us).
   *
   * @return the address of the socket peer (the client, or the proxy in front of us)
   */
  InetSocketAddress remoteAddress();

  /**
   * Returns whether the connection to us is TLS.
   *
   * @return whether the connection to us is TLS
   */
  boolean isSecure();

  /**
   * Returns the request body as the server decoded it from the wire (de-chunked), opened at
   * most once. Reading it may block.
   *
   * @throws IOException if an I/O error occurs
   * @return the request body as the server decoded it from the wire (de-chunked), opened at most
   *     once
   */
  InputStream requestBody() throws IOException;

  /**
   * Sends the status line and headers.
   *
   * @param status the status code (200..599)
   * @param headers response header fields; the adapter adds none of its own but framing. A
   * {@code Connection: close} field among them means the adapter must close the connection
   * after this response (the executor sends it when the request's framing is in doubt, e.g.
   * after a 413 for a body it did not read)
   * @param contentLength the exact body length, or -1 when unknown (the adapter then streams it,
   * chunked on HTTP/1.1). For HEAD requests and 204/304 responses no body bytes are written
   * whatever the length.
   * @throws IOException if an I/O error occurs
   */
  void startResponse(int status, Headers headers, long contentLength) throws IOException;

  /**
   * Returns the response body stream, valid after {@link #startResponse}. Closing it ends it.
   *
   * @throws IOException if an I/O error occurs
   * @return the response body stream, valid after {@link #startResponse}
   */
  OutputStream responseBody() throws IOException;

  /**
   * Ends the exchange abnormally: the client's connection is closed without completing the
   * response, so that a truncated body never looks like a complete one. Safe to call at any
   * time, also after {@link #startResponse}.
   */
  void abort();

  /**
   * Sets a request attribute for the host's own handler on a pass-through: what admitting guards
   * attached (the identity, as {@code dev.offload.identity}). The JDK adapter sets it with {@code
   * HttpExchange.setAttribute}, the servlet adapter with {@code ServletRequest.setAttribute}.
   * Does nothing by default.
   *
   * @param name the name
   * @param value the value
   */
  default void setAttribute(String name, Object value) {}
}
