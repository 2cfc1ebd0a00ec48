package dev.offload.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a raw loopback socket: each accepted connection runs a script on its own thread,
 * for exact control of what a backend sends and when it closes.
 */
final class RawBackend implements AutoCloseable {
  /** What one connection does; {@code index} counts connections from 0. */
  @FunctionalInterface
  interface Script {
    void run(Socket socket, int index) throws Exception;
  }

  /** A request as the backend read it. */
  record Request(String line, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final ServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Socket> sockets = new ArrayList<>();
  final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();

  RawBackend(Script script) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException e) {
          return;
        }
        int index = connections.getAndIncrement();
        synchronized (sockets) {
          sockets.add(s);
        }
        Thread t = new Thread(() -> {
          try (s) {
            s.setSoTimeout(Raw.TIMEOUT_MS);
            script.run(s, index);
          } catch (Exception e) {
            failures.add(e);
          }
        }, "raw-backend-" + index);
        t.setDaemon(true);
        t.start();
      }
    }, "raw-backend-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  int connections() {
    return connections.get();
  }

  /** Reads one request (head, and a body framed by Content-Length or chunked); null at EOF. */
  static Request read(InputStream in) throws IOException {
    String line = line(in);
    if (line == null) {
      return null;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
      int colon = l.indexOf(':');
      headers.merge(l.substring(0, colon).toLowerCase(Locale.ROOT), l.substring(colon + 1).strip(),
          (a, b) -> a + ", " + b);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (int size = Integer.parseInt(line(in).strip(), 16); size > 0;
          size = Integer.parseInt(line(in).strip(), 16)) {
        body.write(in.readNBytes(size));
        line(in);
      }
      line(in);
    }
    return new Request(line, headers, body.toByteArray());
  }

  static void write(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(ISO_8859_1));
    s.getOutputStream().flush();
  }

  private static String line(InputStream in) throws IOException {
    return Raw.line(in);
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (sockets) {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
