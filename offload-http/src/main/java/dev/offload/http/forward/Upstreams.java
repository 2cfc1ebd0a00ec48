package dev.offload.http.forward;

import com.google.common.collect.MapMaker;
import dev.offload.core.Backend;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * Per backend, built once: its OkHttp client (derived from the forwarder's for the backend's
 * timeouts, sharing one connection pool and dispatcher) and each instance's parsed base URL.
 * Kept as long as the backend is. Thread-safe.
 */
final class Upstreams {
  private final OkHttpClient client;
  private final ConcurrentMap<Backend, ForBackend> byBackend = new MapMaker().weakKeys().makeMap();

  private final Map<String, BackendTls> tls;

  Upstreams(OkHttpClient client) {
    this(client, Map.of());
  }

  Upstreams(OkHttpClient client, Map<String, BackendTls> tls) {
    this.client = client;
    this.tls = tls;
  }

  /** Returns the upstream of {@code instance} of {@code backend}. */
  Upstream get(Backend backend, URI instance) {
    ForBackend upstreams = byBackend.get(backend);
    if (upstreams == null) {
      upstreams = byBackend.computeIfAbsent(backend, this::forBackend);
    }
    int index = upstreams.instances.indexOf(instance);
    return upstreams.upstreams[index];
  }

  private ForBackend forBackend(Backend b) {
    OkHttpClient.Builder builder =
        client
            .newBuilder()
            .connectTimeout(b.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .readTimeout(b.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .writeTimeout(b.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .callTimeout(b.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    BackendTls backendTls = tls.get(b.name());
    if (backendTls != null) { // TLS to backends: issue 15
      backendTls.applyTo(builder);
    }
    OkHttpClient derived = builder.build();
    List<URI> instances = b.instances();
    Upstream[] upstreams = new Upstream[instances.size()];
    for (int i = 0; i < upstreams.length; i++) {
      HttpUrl base = HttpUrl.get(instances.get(i).toString());
      upstreams[i] = new Upstream(derived, base, basePath(base));
    }
    return new ForBackend(instances, upstreams);
  }

  /** The base's path without a trailing slash, so that appending the request's path works. */
  static String basePath(HttpUrl base) {
    String path = base.encodedPath();
    return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  private record ForBackend(List<URI> instances, Upstream[] upstreams) {}

  /** One instance: the backend's client and the instance's parsed base URL. */
  record Upstream(OkHttpClient client, HttpUrl base, String basePath) {
    /** The URL of {@code request} on this instance. */
    HttpUrl url(OutgoingRequest request) {
      HttpUrl.Builder url = base.newBuilder().encodedPath(request.encodedPath());
      return url.encodedQuery(request.query().isEmpty() ? null : request.query()).build();
    }
  }
}
