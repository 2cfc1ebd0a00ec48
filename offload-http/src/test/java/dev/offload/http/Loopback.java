package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Real servers and a raw client on 127.0.0.1 for the tests. */
public final class Loopback {
  static final InetAddress LOCALHOST = InetAddress.getLoopbackAddress();
  static final int TIMEOUT_MS = 10_000;

  private Loopback() {}

  /** A started JDK HttpServer; closing stops it at once. */
  static final class Server implements AutoCloseable {
    final HttpServer server;
    final ExecutorService threads = Executors.newCachedThreadPool();
    /** Released each time the handler returned or threw. */
    final java.util.concurrent.Semaphore handled = new java.util.concurrent.Semaphore(0);

    Server(HttpHandler handler) throws IOException {
      server = HttpServer.create(new InetSocketAddress(LOCALHOST, 0), 0);
      server.createContext("/", ex -> {
        try {
          handler.handle(ex);
        } finally {
          handled.release();
        }
      });
      server.setExecutor(threads);
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    /** Waits until the handler has finished {@code n} exchanges (metrics and handles are done). */
    void awaitHandled(int n) throws InterruptedException {
      if (!handled.tryAcquire(n, TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the server did not finish " + n + " exchange(s)");
      }
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + port());
    }

    @Override
    public void close() {
      server.stop(0);
      threads.shutdownNow();
    }
  }

  /** What a backend received. */
  record Received(String method, String target, Map<String, List<String>> headers, byte[] body,
      Object identity) {
    Received(String method, String target, Map<String, List<String>> headers, byte[] body) {
      this(method, target, headers, body, null);
    }

    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : String.join(", ", values);
    }
  }

  /** A JDK HttpServer backend that records each request, body included, then answers. */
  static final class Backend implements AutoCloseable {
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    final Server server;
    volatile Consumer<HttpExchange> responder = ex -> respond(ex, 200, "ok".getBytes(ISO_8859_1));

    Backend() throws IOException {
      server =
          new Server(
              ex -> {
                Map<String, List<String>> headers = new LinkedHashMap<>();
                ex.getRequestHeaders()
                    .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
                byte[] body = ex.getRequestBody().readAllBytes();
                received.add(
                    new Received(
                        ex.getRequestMethod(), ex.getRequestURI().toString(), headers, body));
                responder.accept(ex);
                ex.close();
              });
    }

    URI uri() {
      return server.uri();
    }

    Received take() throws InterruptedException {
      Received r = received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      if (r == null) {
        throw new AssertionError("the backend received no request");
      }
      return r;
    }

    @Override
    public void close() {
      server.close();
    }
  }

  static void respond(HttpExchange ex, int status, byte[] body) {
    try {
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A backend on a raw server socket that writes {@code response} bytes, for broken backends. */
  static final class RawBackend implements AutoCloseable {
    final ServerSocket socket;
    final Thread thread;
    final BlockingQueue<String> requests = new LinkedBlockingQueue<>();

    /** {@code script} gets the accepted socket once the request head was read. */
    RawBackend(SocketScript script) throws IOException {
      socket = new ServerSocket(0, 50, LOCALHOST);
      thread =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try (Socket s = socket.accept()) {
                    s.setSoTimeout(TIMEOUT_MS);
                    requests.add(readHead(s.getInputStream()));
                    script.run(s);
                  } catch (IOException e) {
                    // closed, or the peer went away
                  }
                }
              });
      thread.setDaemon(true);
      thread.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * A backend on a raw server socket that answers one request per connection, 200 "ok" without
   * {@code Connection: close}, and then closes the connection without a word, as a server does
   * with a keep-alive connection left idle: the next request a client sends on it meets a dead
   * connection.
   */
  static final class ClosingIdleBackend implements AutoCloseable {
    /** One request as received: on which accepted connection (from 1), and its request line. */
    record Seen(int connection, String requestLine) {}

    final ServerSocket socket;
    final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    /** Released each time a connection was closed after its response. */
    private final java.util.concurrent.Semaphore closed = new java.util.concurrent.Semaphore(0);
    private final ExecutorService threads = Executors.newCachedThreadPool();

    ClosingIdleBackend() throws IOException {
      socket = new ServerSocket(0, 50, LOCALHOST);
      threads.execute(() -> {
        int connections = 0;
        while (!socket.isClosed()) {
          try {
            Socket s = socket.accept();
            int n = ++connections;
            threads.execute(() -> serve(s, n));
          } catch (IOException e) {
            // closed
          }
        }
      });
    }

    private void serve(Socket s, int connection) {
      try (s) {
        s.setSoTimeout(TIMEOUT_MS);
        InputStream in = new java.io.BufferedInputStream(s.getInputStream());
        String head = readHead(in);
        seen.add(new Seen(connection, head.substring(0, head.indexOf('\r'))));
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            in.readNBytes(Integer.parseInt(line.substring(15).strip()));
          }
        }
        s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            .getBytes(ISO_8859_1));
        s.getOutputStream().flush();
        s.close();
        closed.release();
      } catch (IOException e) {
        // the peer went away
      }
    }

    /** Waits until {@code n} more connections were closed after their response. */
    void awaitClosed(int n) throws InterruptedException {
      if (!closed.tryAcquire(n, TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the backend did not close " + n + " connection(s)");
      }
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    @Override
    public void close() throws IOException {
      socket.close();
      threads.shutdownNow();
    }
  }

  @FunctionalInterface
  interface SocketScript {
    void run(Socket socket) throws IOException;
  }

  /** Reads up to and including the blank line that ends a message head. */
  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("end of stream in message head: " + head);
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
          ? state + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(ISO_8859_1);
  }

  /** A parsed response; {@code complete} is false when the connection ended mid-body. */
  /**
   * A response as read off the wire: {@code complete} says whether its body ended by its own
   * framing (all of {@code Content-Length}, or the last chunk) rather than by the connection
   * ending first.
   */
  public record Response(String statusLine, int status, Map<String, List<String>> headers,
      byte[] body, boolean complete) {
    /** Returns the values of {@code name} joined with ", ", or null. */
    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : String.join(", ", values);
    }

    /** Returns every value of {@code name}, in order; empty when absent. */
    public List<String> headers(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    public String bodyText() {
      return new String(body, ISO_8859_1);
    }
  }

  /** A raw HTTP/1.1 client connection. */
  public static final class RawClient implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    public RawClient(int port) throws IOException {
      socket = new Socket(LOCALHOST, port);
      socket.setSoTimeout(TIMEOUT_MS);
      in = new java.io.BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    /** Returns the socket, to shut down one side or change its timeout. */
    public Socket socket() {
      return socket;
    }

    public RawClient send(String text) throws IOException {
      return send(text.getBytes(ISO_8859_1));
    }

    public RawClient send(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
      return this;
    }

    /** Reads the status line and header fields only; the body, if any, is left to read. */
    public Response readHead() throws IOException {
      return read(true);
    }

    /** Reads exactly {@code n} bytes, failing if the connection ends first. */
    public byte[] readExactly(int n) throws IOException {
      byte[] b = in.readNBytes(n);
      if (b.length != n) {
        throw new IOException("wanted " + n + " bytes, connection ended after " + b.length);
      }
      return b;
    }

    /** Reads one response; {@code head} true when the request was HEAD (no body follows). */
    public Response read(boolean head) throws IOException {
      String text = Loopback.readHead(in);
      String[] lines = text.split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers
              .computeIfAbsent(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                  k -> new ArrayList<>())
              .add(lines[i].substring(colon + 1).strip());
        }
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      boolean complete = true;
      List<String> te = headers.get("transfer-encoding");
      List<String> cl = headers.get("content-length");
      if (head || status == 204 || status == 304 || (status >= 100 && status < 200)) {
        // no body
      } else if (te != null) {
        complete = readChunked(body);
      } else if (cl != null) {
        long n = Long.parseLong(cl.get(0));
        byte[] buffer = new byte[8192];
        while (n > 0) {
          int r;
          try {
            r = in.read(buffer, 0, (int) Math.min(buffer.length, n));
          } catch (java.net.SocketException e) {
            r = -1;
          }
          if (r < 0) {
            complete = false;
            break;
          }
          body.write(buffer, 0, r);
          n -= r;
        }
      } else {
        byte[] buffer = new byte[8192];
        int r;
        try {
          while ((r = in.read(buffer)) >= 0) {
            body.write(buffer, 0, r);
          }
        } catch (java.net.SocketException e) {
          // a reset ends a read-to-close body like an orderly close
        }
      }
      return new Response(lines[0], status, headers, body.toByteArray(), complete);
    }

    public Response read() throws IOException {
      return read(false);
    }

    /** Reads one response, or returns null when the server closed the connection without one. */
    Response readOrClosed() throws IOException {
      in.mark(1);
      try {
        if (in.read() < 0) {
          return null;
        }
      } catch (java.net.SocketException e) {
        return null;
      }
      in.reset();
      return read(false);
    }

    private boolean readChunked(ByteArrayOutputStream body) throws IOException {
      try {
        while (true) {
          String size = readLine();
          if (size == null) {
            return false;
          }
          int semi = size.indexOf(';');
          long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
          if (n == 0) {
            String line;
            do {
              line = readLine();
              if (line == null) {
                return false;
              }
            } while (!line.isEmpty());
            return true;
          }
          byte[] chunk = in.readNBytes((int) n);
          body.write(chunk);
          if (chunk.length < n || readLine() == null) {
            return false;
          }
        }
      } catch (java.net.SocketException e) {
        return false;
      }
    }

    private String readLine() throws IOException {
      StringBuilder sb = new StringBuilder();
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          int len = sb.length();
          return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
        }
        sb.append((char) b);
      }
      return null;
    }

    /** Returns true when the server closed the connection (EOF or reset) within the timeout. */
    boolean closedByServer() throws IOException {
      try {
        return in.read() < 0;
      } catch (java.net.SocketException e) {
        return true;
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Returns a port on which nothing listens (bound, then released). */
  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOCALHOST)) {
      return s.getLocalPort();
    }
  }
}
