package dev.offload.http.servlet;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A raw-socket HTTP/1.1 client: writes bytes as given, reads a response and reports whether its
 * body was complete by its own framing (all of {@code Content-Length}, or the last chunk) or the
 * connection ended first.
 */
final class RawHttp implements AutoCloseable {
  /** Long enough for a slow CI, short enough that a hung response fails the test. */
  static final int READ_TIMEOUT_MILLIS = 10_000;

  private final Socket socket;
  private final InputStream in;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(READ_TIMEOUT_MILLIS);
    in = socket.getInputStream();
  }

  Socket socket() {
    return socket;
  }

  void send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(ISO_8859_1));
    socket.getOutputStream().flush();
  }

  /** Reads the status line and headers. */
  Head readHead() throws IOException {
    StringBuilder bytes = new StringBuilder();
    while (bytes.length() < 4 || !bytes.substring(bytes.length() - 4).equals("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection ended inside the response head: " + bytes);
      }
      bytes.append((char) b);
    }
    String[] lines = bytes.toString().split("\r\n");
    List<String> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      headers.add(lines[i]);
    }
    return new Head(lines[0], headers);
  }

  /** Reads exactly {@code n} bytes, failing if the connection ends first. */
  byte[] readExactly(int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new IOException("wanted " + n + " bytes, connection ended after " + b.length);
    }
    return b;
  }

  /** Reads the whole response to a request other than HEAD: head, then the body by its framing. */
  Response readResponse() throws IOException {
    Head head = readHead();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean complete;
    String length = head.header("Content-Length");
    int status = head.status();
    if (status == 204 || status == 304 || status < 200) {
      complete = true;
    } else if (head.header("Transfer-Encoding") != null) {
      complete = readChunked(body);
    } else if (length != null) {
      long n = Long.parseLong(length);
      complete = copyAtMost(n, body) == n;
    } else {
      copyAtMost(Long.MAX_VALUE, body);
      complete = true;
    }
    return new Response(head, body.toByteArray(), complete);
  }

  /** Returns whether the last chunk and the empty trailer line were read. */
  private boolean readChunked(ByteArrayOutputStream body) throws IOException {
    while (true) {
      String sizeLine = readLine();
      if (sizeLine == null) {
        return false;
      }
      int semicolon = sizeLine.indexOf(';');
      long size = Long.parseLong(
          (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
      if (size == 0) {
        String line;
        do {
          line = readLine();
          if (line == null) {
            return false;
          }
        } while (!line.isEmpty());
        return true;
      }
      if (copyAtMost(size, body) != size || readLine() == null) {
        return false;
      }
    }
  }

  /** Reads a CRLF-terminated line; null when the connection ends first. */
  private String readLine() throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      int b = readOrEnd();
      if (b < 0) {
        return null;
      }
      if (b == '\n') {
        int last = sb.length() - 1;
        return last >= 0 && sb.charAt(last) == '\r' ? sb.substring(0, last) : sb.toString();
      }
      sb.append((char) b);
    }
  }

  private long copyAtMost(long n, ByteArrayOutputStream into) throws IOException {
    long copied = 0;
    while (copied < n) {
      int b = readOrEnd();
      if (b < 0) {
        break;
      }
      into.write(b);
      copied++;
    }
    return copied;
  }

  /** A reset connection ends the stream like an orderly close: both are an aborted response. */
  private int readOrEnd() throws IOException {
    try {
      return in.read();
    } catch (SocketException e) {
      return -1;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  record Head(String statusLine, List<String> headerLines) {
    int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }

    /** Returns the first value of {@code name}, or null. */
    String header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? null : all.get(0);
    }

    List<String> headers(String name) {
      List<String> values = new ArrayList<>();
      String prefix = name.toLowerCase(Locale.ROOT) + ":";
      for (String line : headerLines) {
        if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
          values.add(line.substring(prefix.length()).trim());
        }
      }
      return values;
    }
  }

  record Response(Head head, byte[] body, boolean complete) {
    String bodyText() {
      return new String(body, ISO_8859_1);
    }
  }
}
