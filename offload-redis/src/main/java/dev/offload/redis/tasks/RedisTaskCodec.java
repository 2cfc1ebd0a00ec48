package dev.offload.redis.tasks;

import dev.offload.core.Headers;
import dev.offload.core.async.TaskQueue;
import dev.offload.core.async.TaskRequest;
import dev.offload.core.async.TaskResult;
import dev.offload.core.async.TaskSnapshot;
import dev.offload.core.async.TaskState;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The bytes a task's snapshot and a queued task are kept as in Redis: a version byte, then the
 * fields in a fixed order (strings as a length and UTF-8). Decoding checks every length against
 * what is left and throws {@link IllegalArgumentException} on anything malformed: what is read
 * from Redis is not trusted more than what came from a client.
 */
final class RedisTaskCodec {
  private static final byte SNAPSHOT_V1 = 1;
  private static final byte QUEUED_V1 = 1;

  private RedisTaskCodec() {}

  static byte[] encode(TaskSnapshot task) {
    return write(out -> {
      out.writeByte(SNAPSHOT_V1);
      string(out, task.id());
      string(out, task.pool());
      optional(out, task.owner());
      string(out, task.state().tag());
      out.writeBoolean(task.progress().isPresent());
      out.writeDouble(task.progress().orElse(0));
      out.writeBoolean(task.cancelRequested());
      optional(out, task.error());
      out.writeLong(task.createdNanos());
      out.writeLong(task.finishedNanos());
      out.writeLong(task.expiresAtNanos());
      out.writeBoolean(task.result().isPresent());
      if (task.result().isPresent()) {
        TaskResult result = task.result().get();
        out.writeInt(result.status());
        headers(out, result.headers());
        bytes(out, result.body());
      }
    });
  }

  static TaskSnapshot decodeSnapshot(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    version(in, SNAPSHOT_V1);
    String id = string(in);
    String pool = string(in);
    Optional<String> owner = optional(in);
    TaskState state = state(string(in));
    boolean hasProgress = bool(in);
    double progress = in.getDouble();
    boolean cancelRequested = bool(in);
    Optional<String> error = optional(in);
    long created = in.getLong();
    long finished = in.getLong();
    long expiresAt = in.getLong();
    Optional<TaskResult> result = Optional.empty();
    if (bool(in)) {
      int status = in.getInt();
      Headers headers = headers(in);
      result = Optional.of(TaskResult.of(status, headers, bytes(in)));
    }
    end(in);
    return new TaskSnapshot(id, pool, owner, state,
        hasProgress ? OptionalDouble.of(progress) : OptionalDouble.empty(), cancelRequested,
        result, error, created, finished, expiresAt);
  }

  /** Encodes a queued task without the header fields named (lower case) in {@code dropped}. */
  static byte[] encode(TaskQueue.QueuedTask task, Set<String> dropped) {
    TaskRequest request = task.request();
    Headers.Builder kept = Headers.builder();
    Headers headers = request.headers();
    for (int i = 0; i < headers.size(); i++) {
      if (!dropped.contains(headers.name(i).toLowerCase(Locale.ROOT))) {
        kept.add(headers.name(i), headers.value(i));
      }
    }
    return write(out -> {
      out.writeByte(QUEUED_V1);
      string(out, task.id());
      string(out, task.pool());
      string(out, request.method());
      string(out, request.path());
      optional(out, request.query());
      headers(out, kept.build());
      bytes(out, request.body());
      optional(out, request.owner());
      optional(out, task.idempotencyKey());
    });
  }

  static TaskQueue.QueuedTask decodeQueued(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    version(in, QUEUED_V1);
    String id = string(in);
    String pool = string(in);
    TaskRequest.Builder request = TaskRequest.builder(string(in), string(in));
    optional(in).ifPresent(request::query);
    request.headers(headers(in));
    request.body(bytes(in));
    optional(in).ifPresent(request::owner);
    Optional<String> key = optional(in);
    end(in);
    return new TaskQueue.QueuedTask(id, pool, request.build(), key);
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
    }
    return bytes.toByteArray();
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    bytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void optional(DataOutputStream out, Optional<String> s) throws IOException {
    out.writeBoolean(s.isPresent());
    if (s.isPresent()) {
      string(out, s.get());
    }
  }

  private static void bytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static void headers(DataOutputStream out, Headers headers) throws IOException {
    out.writeInt(headers.size());
    for (int i = 0; i < headers.size(); i++) {
      string(out, headers.name(i));
      string(out, headers.value(i));
    }
  }

  private static void version(ByteBuffer in, byte expected) {
    need(in, 1);
    byte version = in.get();
    if (version != expected) {
      throw new IllegalArgumentException("unknown task encoding version " + version);
    }
  }

  private static boolean bool(ByteBuffer in) {
    need(in, 1);
    return in.get() != 0;
  }

  private static byte[] bytes(ByteBuffer in) {
    need(in, 4);
    int length = in.getInt();
    if (length < 0 || length > in.remaining()) {
      throw new IllegalArgumentException("malformed task encoding: a length of " + length
          + " with " + in.remaining() + " bytes left");
    }
    byte[] b = new byte[length];
    in.get(b);
    return b;
  }

  private static String string(ByteBuffer in) {
    return new String(bytes(in), StandardCharsets.UTF_8);
  }

  private static Optional<String> optional(ByteBuffer in) {
    return bool(in) ? Optional.of(string(in)) : Optional.empty();
  }

  private static Headers headers(ByteBuffer in) {
    need(in, 4);
    int count = in.getInt();
    if (count < 0 || count > in.remaining() / 8) {
      throw new IllegalArgumentException("malformed task encoding: " + count + " header fields");
    }
    Headers.Builder headers = Headers.builder();
    for (int i = 0; i < count; i++) {
      headers.add(string(in), string(in));
    }
    return headers.build();
  }

  private static TaskState state(String tag) {
    for (TaskState state : TaskState.values()) {
      if (state.tag().equals(tag)) {
        return state;
      }
    }
    throw new IllegalArgumentException("unknown task state '" + tag + "'");
  }

  private static void need(ByteBuffer in, int bytes) {
    if (in.remaining() < bytes) {
      throw new IllegalArgumentException("malformed task encoding: truncated");
    }
  }

  private static void end(ByteBuffer in) {
    if (in.hasRemaining()) {
      throw new IllegalArgumentException("malformed task encoding: " + in.remaining()
          + " bytes after the end");
    }
  }
}
