package dev.offload.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Server;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bodies stream with bounded memory: the gateway runs in a forked JVM with {@code -Xmx128m} and
 * relays {@value #DEFAULT_BYTES} bytes up and down (override with {@code
 * -Doffload.streamBytes=N}); if it held a body in memory it would die with OutOfMemoryError.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StreamingMemoryTest {
  static final long DEFAULT_BYTES = 1L << 30;
  private static final long BYTES = Long.getLong("offload.streamBytes", DEFAULT_BYTES);
  private static final byte[] PATTERN = new byte[64 * 1024];

  static {
    new Random(7).nextBytes(PATTERN);
  }

  private Server backend;
  private Process gateway;
  private int gatewayPort;

  @BeforeEach
  void start() throws Exception {
    backend = new Server(StreamingMemoryTest::backend);
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    // the test JVM's logging configuration (quiet under Maven), passed on
    String logging = System.getProperty("java.util.logging.config.file");
    gateway = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC",
        logging == null ? "-Dunused=true" : "-Djava.util.logging.config.file=" + logging,
        "-cp", System.getProperty("java.class.path"),
        StreamingGatewayMain.class.getName(), backend.uri().toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(gateway.getInputStream(),
        ISO_8859_1));
    String[] line = out.readLine().split(" ");
    gatewayPort = Integer.parseInt(line[0]);
    assertThat(Long.parseLong(line[1])).as("the gateway's heap").isLessThanOrEqualTo(128L << 20);
  }

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.getOutputStream().close();
      if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
    }
    if (backend != null) {
      backend.close();
    }
  }

  /** POST: counts and checksums the body; GET /api/down: streams BYTES bytes of the pattern. */
  private static void backend(HttpExchange ex) throws IOException {
    if (ex.getRequestMethod().equals("POST")) {
      CRC32 crc = new CRC32();
      long n = 0;
      byte[] buffer = new byte[64 * 1024];
      try (InputStream in = ex.getRequestBody()) {
        int r;
        while ((r = in.read(buffer)) >= 0) {
          crc.update(buffer, 0, r);
          n += r;
        }
      }
      Loopback.respond(ex, 200, (n + " " + crc.getValue()).getBytes(ISO_8859_1));
    } else {
      ex.sendResponseHeaders(200, 0); // chunked: the gateway must stream an unknown length
      try (OutputStream out = ex.getResponseBody()) {
        writePattern(out, BYTES);
      }
    }
    ex.close();
  }

  private static void writePattern(OutputStream out, long bytes) throws IOException {
    long left = bytes;
    while (left > 0) {
      int n = (int) Math.min(PATTERN.length, left);
      out.write(PATTERN, 0, n);
      left -= n;
    }
  }

  private static long patternCrc(long bytes) {
    CRC32 crc = new CRC32();
    long left = bytes;
    while (left > 0) {
      int n = (int) Math.min(PATTERN.length, left);
      crc.update(PATTERN, 0, n);
      left -= n;
    }
    return crc.getValue();
  }

  @Test
  void uploadsAndDownloadsALargeBodyThroughASmallHeap() throws Exception {
    long expectedCrc = patternCrc(BYTES);
    try (RawClient client = new RawClient(gatewayPort)) {
      client.send(String.format(Locale.ROOT,
          "POST /api/up HTTP/1.1\r\nHost: gw\r\nContent-Length: %d\r\n\r\n", BYTES));
      writePattern(client.out, BYTES);
      client.out.flush();
      Loopback.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo(BYTES + " " + expectedCrc);

      client.send("GET /api/down HTTP/1.1\r\nHost: gw\r\n\r\n");
      String head = Loopback.readHead(client.in);
      assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
      CRC32 crc = new CRC32();
      long total = 0;
      byte[] buffer = new byte[64 * 1024];
      while (true) {
        String sizeLine = readLine(client.in);
        long size = Long.parseLong(sizeLine.strip(), 16);
        if (size == 0) {
          assertThat(readLine(client.in)).isEmpty();
          break;
        }
        long left = size;
        while (left > 0) {
          int r = client.in.read(buffer, 0, (int) Math.min(buffer.length, left));
          assertThat(r).as("end of stream mid-chunk").isPositive();
          crc.update(buffer, 0, r);
          left -= r;
        }
        total += size;
        assertThat(readLine(client.in)).isEmpty();
      }
      assertThat(total).isEqualTo(BYTES);
      assertThat(crc.getValue()).isEqualTo(expectedCrc);
    }
    assertThat(gateway.isAlive()).as("the gateway survived").isTrue();
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }
}
