package dev.offload.http;

import static java.util.Objects.requireNonNull;

import dev.offload.core.Headers;
import dev.offload.http.internal.CompressingExchange;
import java.util.Locale;
import java.util.zip.Deflater;

/**
 * Gzip for answers the gateway writes (forwarded, served from the edge cache, problem
 * responses), streamed: each block is compressed as it is relayed, never a whole body buffered.
 *
 * <pre>{@code
 * OffloadExecutor executor = OffloadExecutor.builder(router)
 *     .compression(Compression.gzip().minimumBytes(1024).level(6))
 *     .build();
 * }</pre>
 *
 * <p>A response is compressed only when all hold: the client accepts {@code gzip} (in {@code
 * Accept-Encoding}, with a non-zero q-value, or through {@code *}); the request is not {@code
 * HEAD}; the status is 200 (not 206, 204, 304, ...); the response has no {@code
 * Content-Encoding} and no {@code Content-Range}; its {@code Cache-Control} does not say {@code
 * no-transform}; its type is compressible ({@code text/*}, JSON, JavaScript, XML, SVG and their
 * {@code +json}/{@code +xml} kinds); and its {@code Content-Length}, when known, is at least
 * {@link Builder#minimumBytes}. Then {@code Content-Encoding: gzip} is set, {@code
 * Content-Length} removed (the body is chunked), a strong {@code ETag} gets the suffix {@code
 * -gzip} (a different representation must not share a strong validator), and {@code Vary:
 * Accept-Encoding} is added, to every response whose type is compressible, compressed or not.
 *
 * <p>Not covered: pass-through responses (the host writes them itself); the edge cache stores
 * the identity body and compresses each hit anew.
 *
 * <p>Immutable and thread-safe.
 */
public final class Compression {
  /** The default minimum body size compressed, in bytes. */
  public static final int DEFAULT_MINIMUM_BYTES = 1024;
  /** The default gzip level: 6, zlib's default (see the JMH numbers in the README). */
  public static final int DEFAULT_LEVEL = Deflater.DEFAULT_COMPRESSION;

  private static final Compression OFF = new Compression(false, 0, 0);

  private final boolean enabled;
  private final int minimumBytes;
  private final int level;

  private Compression(boolean enabled, int minimumBytes, int level) {
    this.enabled = enabled;
    this.minimumBytes = minimumBytes;
    this.level = level;
  }

  /**
   * Returns a builder for gzip with the defaults.
   *
   * @return a new builder
   */
  public static Builder gzip() {
    return new Builder();
  }

  /**
   * Returns no compression: the executor's default.
   *
   * @return compression switched off
   */
  public static Compression off() {
    return OFF;
  }

  /**
   * Returns the gzip level.
   *
   * @return the level, 1 to 9, or -1 for zlib's default (6)
   */
  public int level() {
    return level;
  }

  /** Wraps an exchange; {@code exchange} itself when switched off. */
  ServerExchange wrap(ServerExchange exchange, Headers requestHeaders) {
    if (!enabled || exchange.method().equals("HEAD")) {
      return exchange;
    }
    return new CompressingExchange(exchange, this, acceptsGzip(requestHeaders.all(
        "Accept-Encoding")));
  }

  /**
   * Whether a response with these fields is compressed (when the client accepts gzip).
   *
   * @param status the status
   * @param headers the response's fields
   * @param contentLength the body length, or -1 when unknown
   * @return whether to compress
   * @throws NullPointerException if {@code headers} is null
   */
  public boolean compresses(int status, Headers headers, long contentLength) {
    requireNonNull(headers, "headers");
    if (!enabled || status != 200 || headers.contains("Content-Encoding")
        || headers.contains("Content-Range")
        || (contentLength >= 0 && contentLength < minimumBytes)) {
      return false;
    }
    for (String cc : headers.all("Cache-Control")) {
      if (cc.toLowerCase(Locale.ROOT).contains("no-transform")) {
        return false;
      }
    }
    return compressibleType(headers);
  }

  /**
   * Whether the response's {@code Content-Type} is one that compresses well.
   *
   * @param headers the response's fields
   * @return whether its type is compressible
   * @throws NullPointerException if {@code headers} is null
   */
  public static boolean compressibleType(Headers headers) {
    String type = headers.first("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    int semicolon = type.indexOf(';');
    type = (semicolon < 0 ? type : type.substring(0, semicolon)).strip();
    return type.startsWith("text/") || type.equals("application/json")
        || type.equals("application/javascript") || type.equals("application/xml")
        || type.equals("image/svg+xml") || type.endsWith("+json") || type.endsWith("+xml");
  }

  /**
   * Whether {@code Accept-Encoding} fields accept gzip: {@code gzip} (or {@code x-gzip}) with a
   * non-zero q-value, or {@code *} with a non-zero q-value and gzip not refused by name.
   *
   * @param fields the {@code Accept-Encoding} field values
   * @return whether gzip is acceptable
   * @throws NullPointerException if {@code fields} is null
   */
  public static boolean acceptsGzip(java.util.List<String> fields) {
    requireNonNull(fields, "fields");
    Boolean named = null;
    boolean star = false;
    for (String field : fields) {
      for (String member : field.split(",", 64)) {
        String[] parts = member.split(";", 8);
        String coding = parts[0].strip().toLowerCase(Locale.ROOT);
        boolean accepted = qValue(parts) > 0;
        if (coding.equals("gzip") || coding.equals("x-gzip")) {
          named = named == null ? accepted : named && accepted;
        } else if (coding.equals("*")) {
          star = accepted;
        }
      }
    }
    return named != null ? named : star;
  }

  private static double qValue(String[] parts) {
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip().toLowerCase(Locale.ROOT);
      if (p.startsWith("q=")) {
        String q = p.substring(2).strip();
        if (!q.matches("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?")) {
          return 0; // not a valid qvalue: refuse rather than guess
        }
        return Double.parseDouble(q);
      }
    }
    return 1;
  }

  @Override
  public String toString() {
    return enabled ? "Compression.gzip(minimumBytes=" + minimumBytes + ", level=" + level + ")"
        : "Compression.off()";
  }

  /** Builds a {@link Compression}. Not thread-safe. */
  public static final class Builder {
    private int minimumBytes = DEFAULT_MINIMUM_BYTES;
    private int level = DEFAULT_LEVEL;

    private Builder() {}

    /**
     * Sets the smallest known body length compressed; shorter ones gain little. Default {@value
     * Compression#DEFAULT_MINIMUM_BYTES}.
     *
     * @param bytes at least 0
     * @return this builder
     * @throws IllegalArgumentException naming {@code minimumBytes} if negative
     */
    public Builder minimumBytes(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("minimumBytes must not be negative, got " + bytes);
      }
      this.minimumBytes = bytes;
      return this;
    }

    /**
     * Sets the gzip level, 1 (fastest) to 9 (smallest); default zlib's 6.
     *
     * @param level 1 to 9
     * @return this builder
     * @throws IllegalArgumentException naming {@code level} if outside 1..9
     */
    public Builder level(int level) {
      if (level < 1 || level > 9) {
        throw new IllegalArgumentException("level must be 1..9, got " + level);
      }
      this.level = level;
      return this;
    }

    /**
     * Returns the compression settings.
     *
     * @return the settings
     */
    public Compression build() {
      return new Compression(true, minimumBytes, level);
    }
  }
}
