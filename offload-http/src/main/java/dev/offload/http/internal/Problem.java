package dev.offload.http.internal;

import dev.offload.core.Headers;
import dev.offload.http.ServerExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * An RFC 9457 {@code application/problem+json} error body: {@code type} (always {@code
 * about:blank}), {@code title} (the status phrase), {@code status} and {@code detail} (a short
 * reason, never a stack trace or a backend's internals).
 *
 * <p>The document has four fixed members, so it is written here rather than with a JSON library
 * that every user of this embeddable module would then carry; every string is escaped to ASCII
 * (quotes, backslashes, control characters, and everything outside printable ASCII as {@code
 * \}{@code uXXXX}).
 */
public final class Problem {
  /** The media type of problem documents. */
  public static final String CONTENT_TYPE = "application/problem+json";

  private Problem() {}

  /** Returns the document for {@code status} with {@code detail}. */
  public static byte[] json(int status, String detail) {
    StringBuilder sb = new StringBuilder(96 + detail.length());
    sb.append("{\"type\":\"about:blank\",\"title\":");
    quote(sb, title(status));
    sb.append(",\"status\":").append(status).append(",\"detail\":");
    quote(sb, detail);
    sb.append('}');
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Answers {@code exchange} with a problem document; {@code extra} header fields (such as
   * {@code Retry-After}, {@code Allow} or {@code Connection: close}) are sent too.
   */
  public static void send(ServerExchange exchange, int status, String detail, Headers extra)
      throws IOException {
    byte[] body = json(status, detail);
    Headers.Builder headers = extra.toBuilder();
    headers.set("Content-Type", CONTENT_TYPE);
    headers.set("Cache-Control", "no-store");
    exchange.startResponse(status, headers.build(), body.length);
    try (OutputStream out = exchange.responseBody()) {
      if (!"HEAD".equals(exchange.method())) {
        out.write(body);
      }
    }
  }

  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Returns the reason phrase of {@code status} (RFC 9110 section 15). */
  public static String title(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 411 -> "Length Required";
      case 413 -> "Content Too Large";
      case 414 -> "URI Too Long";
      case 415 -> "Unsupported Media Type";
      case 417 -> "Expectation Failed";
      case 421 -> "Misdirected Request";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> status < 500 ? "Client Error" : "Server Error";
    };
  }
}
