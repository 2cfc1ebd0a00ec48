package dev.offload.bench.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The floor for offload's JDK gateway: a JDK {@code HttpServer} handler that relays to the
 * backend with OkHttp and nothing else (no routing, no header rules beyond dropping hop-by-hop
 * fields, no limits). A reference arm, not a proxy to use.
 */
final class MinimalProxy implements HttpHandler {
  private static final Set<String> HOP = Set.of("connection", "keep-alive", "transfer-encoding",
      "te", "trailer", "upgrade", "proxy-connection", "host", "content-length");
  private final OkHttpClient client;
  private final String base;

  MinimalProxy(OkHttpClient client, String base) {
    this.client = client;
    this.base = base;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    Headers.Builder headers = new Headers.Builder();
    for (Map.Entry<String, List<String>> e : exchange.getRequestHeaders().entrySet()) {
      if (!HOP.contains(e.getKey().toLowerCase(Locale.ROOT))) {
        for (String v : e.getValue()) {
          headers.addUnsafeNonAscii(e.getKey(), v);
        }
      }
    }
    byte[] in;
    try (InputStream body = exchange.getRequestBody()) {
      in = body.readAllBytes();
    }
    String method = exchange.getRequestMethod();
    RequestBody requestBody = in.length == 0 && (method.equals("GET") || method.equals("HEAD"))
        ? null : RequestBody.create(in, (MediaType) null);
    Request request = new Request.Builder().url(base + exchange.getRequestURI())
        .headers(headers.build()).method(method, requestBody).build();
    try (Response response = client.newCall(request).execute()) {
      for (int i = 0; i < response.headers().size(); i++) {
        String name = response.headers().name(i);
        if (!HOP.contains(name.toLowerCase(Locale.ROOT))) {
          exchange.getResponseHeaders().add(name, response.headers().value(i));
        }
      }
      ResponseBody body = response.body();
      long length = body.contentLength();
      exchange.sendResponseHeaders(response.code(), length < 0 ? 0 : length == 0 ? -1 : length);
      try (OutputStream out = exchange.getResponseBody(); InputStream from = body.byteStream()) {
        from.transferTo(out);
      }
    }
  }
}
