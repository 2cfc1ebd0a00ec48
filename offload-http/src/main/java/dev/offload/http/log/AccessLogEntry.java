package dev.offload.http.log;

import java.time.Instant;
import java.util.Optional;

/**
 * What the access log records of one request; {@link AccessLog} writes it as one JSON line.
 * Never holds credentials: no header is recorded, and the path is the normalized path without
 * its query (where API keys and tokens travel).
 *
 * @param time when the request was received (the access log's clock)
 * @param client the client's address (behind trusted proxies: the address they named)
 * @param method the request method
 * @param path the normalized path, no query; at most 1024 characters (cut, marked with {@code
 *     ...})
 * @param decision the decision's kind ({@code forward}, {@code pass_through}, ...), or {@code
 *     refused} when the executor refused the request before routing
 * @param backend the backend's name, for a forward
 * @param instance the backend instance's URI, for a forward
 * @param status the status answered, or 0 when none was (the client left)
 * @param bytes the response body bytes written
 * @param durationNanos from receipt until the answer ended, on the access log's ticker
 * @param cacheStatus the edge cache's {@code X-Cache-Status} ({@code HIT}, {@code MISS}, ...)
 * @param requestId the correlation id, when {@link dev.offload.http.CorrelationIds} are on
 */
public record AccessLogEntry(
    Instant time,
    String client,
    String method,
    String path,
    String decision,
    Optional<String> backend,
    Optional<String> instance,
    int status,
    long bytes,
    long durationNanos,
    Optional<String> cacheStatus,
    Optional<String> requestId) {}
