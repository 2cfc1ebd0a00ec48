package dev.offload.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A raw HTTP/1.1 client on one loopback connection, for exact bytes on the wire. */
final class Raw implements AutoCloseable {
  static final int TIMEOUT_MS = 10_000;
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  Raw(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(TIMEOUT_MS);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  Raw send(String bytes) throws IOException {
    out.write(bytes.getBytes(ISO_8859_1));
    out.flush();
    return this;
  }

  /** A parsed response. */
  record Response(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Reads one response, framed by Content-Length, chunked, or the close. */
  Response read(boolean head) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      headers.merge(l.substring(0, colon).toLowerCase(Locale.ROOT), l.substring(colon + 1).strip(),
          (a, b) -> a + ", " + b);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (head || status == 204 || status == 304) {
      return new Response(status, headers, "");
    }
    if (headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (int size = Integer.parseInt(line().strip(), 16); size > 0;
          size = Integer.parseInt(line().strip(), 16)) {
        body.write(in.readNBytes(size));
        line();
      }
      line();
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(status, headers, body.toString(ISO_8859_1));
  }

  Response read() throws IOException {
    return read(false);
  }

  /** Whether the server closed the connection (reads EOF or a reset within the timeout). */
  boolean closedByServer() throws IOException {
    try {
      return in.read() == -1;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  private String line() throws IOException {
    return line(in);
  }

  /** Reads a line ended by LF (a CR before it dropped); null at the end of the stream. */
  static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = in.read(); c != -1; c = in.read()) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
