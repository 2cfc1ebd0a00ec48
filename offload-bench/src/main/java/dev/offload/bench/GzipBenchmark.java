package dev.offload.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of gzip per MB of response and the bytes it saves, at gzip levels 1, 6 and 9: the
 * JDK's {@link GZIPOutputStream} writing the whole body at once ({@code whole}), and as {@code
 * Compression} streams a relayed body ({@code streamed}: 8 KiB blocks, a sync flush after each,
 * as the forwarder flushes whenever the backend pauses; the worst case for the ratio).
 *
 * <p>The body is 1 MiB of JSON orders (a typical API answer). Each trial prints the compressed
 * size as a ratio of the original. Time per operation is per MiB.
 *
 * <p>Run: {@code java -jar offload-bench/target/benchmarks.jar GzipBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GzipBenchmark {
  private static final int MIB = 1 << 20;
  private static final int BLOCK = 8 * 1024;

  @Param({"1", "6", "9"})
  public int level;

  private byte[] body;
  private long lastSize;

  /** Builds 1 MiB of JSON with realistic repetition (field names) and entropy (values). */
  @Setup(Level.Trial)
  public void setUp() {
    SplittableRandom random = new SplittableRandom(42);
    StringBuilder sb = new StringBuilder(MIB + 256).append('[');
    String[] items = {"book", "lamp", "chair", "pen", "desk", "mug", "cable", "phone"};
    while (sb.length() < MIB - 200) {
      sb.append("{\"id\":").append(random.nextInt(1_000_000))
          .append(",\"customer\":\"c-").append(Long.toHexString(random.nextLong()))
          .append("\",\"item\":\"").append(items[random.nextInt(items.length)])
          .append("\",\"quantity\":").append(random.nextInt(1, 10))
          .append(",\"price\":").append(random.nextInt(100, 100_000) / 100.0)
          .append(",\"status\":\"").append(random.nextBoolean() ? "shipped" : "pending")
          .append("\"},");
    }
    sb.setLength(sb.length() - 1);
    sb.append(']');
    body = sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Prints the ratio the last invocation achieved. */
  @TearDown(Level.Trial)
  public void report() {
    System.out.printf("%n  level %d: %d -> %d bytes, %.1f %% of the original%n", level,
        body.length, lastSize, 100.0 * lastSize / body.length);
  }

  private GZIPOutputStream gzip(ByteArrayOutputStream sink, boolean syncFlush)
      throws IOException {
    int l = level;
    return new GZIPOutputStream(sink, BLOCK, syncFlush) {
      {
        def.setLevel(l);
      }
    };
  }

  /** The whole body in one write. */
  @Benchmark
  public long whole() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream(body.length / 4);
    try (GZIPOutputStream out = gzip(sink, false)) {
      out.write(body);
    }
    return lastSize = sink.size();
  }

  /** As {@code Compression} relays it: 8 KiB blocks, each sync-flushed. */
  @Benchmark
  public long streamed() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream(body.length / 4);
    try (GZIPOutputStream out = gzip(sink, true)) {
      for (int off = 0; off < body.length; off += BLOCK) {
        out.write(body, off, Math.min(BLOCK, body.length - off));
        out.flush();
      }
    }
    return lastSize = sink.size();
  }
}
