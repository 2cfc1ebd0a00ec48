package dev.offload.examples.demo;

import static java.util.Objects.requireNonNull;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the demo's host application answers, whatever server runs it (the JDK gateway's handler,
 * the Jetty example's servlet): {@code /hello}, the files under {@code /static/} with {@code
 * Cache-Control: public, max-age=60} and an {@code ETag} (so the edge cache keeps them and
 * answers 304s), {@code /metrics} in Prometheus text, else 404.
 */
final class HostApplication {
  private final String greeting;
  private final Map<String, byte[]> files;
  private final PrometheusMeterRegistry registry;

  HostApplication(String greeting, Map<String, byte[]> files, PrometheusMeterRegistry registry) {
    this.greeting = requireNonNull(greeting, "greeting");
    this.files = Map.copyOf(files);
    this.registry = requireNonNull(registry, "registry");
  }

  /** One answer: status, content type, extra header fields, body. */
  record Answer(int status, String contentType, Map<String, String> headers, byte[] body) {}

  Answer answer(String path) {
    byte[] file = files.get(path);
    if (path.equals("/hello")) {
      return text(200, greeting + "\n");
    }
    if (file != null) {
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Cache-Control", "public, max-age=60");
      headers.put("ETag", DemoGateway.etag(file));
      return new Answer(200, path.endsWith(".png") ? "image/png" : "text/javascript", headers,
          file);
    }
    if (path.equals("/metrics")) {
      return new Answer(200, "text/plain; version=0.0.4; charset=utf-8", Map.of(),
          registry.scrape().getBytes(StandardCharsets.UTF_8));
    }
    return text(404, "not found: " + path + "\n");
  }

  private static Answer text(int status, String body) {
    return new Answer(status, "text/plain; charset=utf-8", Map.of(),
        body.getBytes(StandardCharsets.UTF_8));
  }
}
