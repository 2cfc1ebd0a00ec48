package dev.offload.http.forward;

import java.io.IOException;
import okhttp3.Headers;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The network interceptor that keeps OkHttp from acting as a browser: it removes the {@code
 * Accept-Encoding: gzip} and {@code User-Agent} that OkHttp adds when the client sent none, and it
 * hides the response's {@code Content-Encoding} from OkHttp's transparent decompression (the
 * forwarder restores it), so bodies are relayed byte for byte.
 */
final class ProxyInterceptor implements Interceptor {
  /** Where the backend's Content-Encoding travels past OkHttp's bridge. */
  static final String HIDDEN_CONTENT_ENCODING = "X-Offload-Hidden-Content-Encoding";

  /** Attached to each forwarded request: what the client did not send. */
  record Tag(boolean clientSentAcceptEncoding, boolean clientSentUserAgent) {}

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    Tag tag = request.tag(Tag.class);
    if (tag == null) {
      return chain.proceed(request); // not ours: a user's call on a shared client
    }
    if (!tag.clientSentAcceptEncoding() || !tag.clientSentUserAgent()) {
      Request.Builder builder = request.newBuilder();
      if (!tag.clientSentAcceptEncoding()) {
        builder.removeHeader("Accept-Encoding");
      }
      if (!tag.clientSentUserAgent()) {
        builder.removeHeader("User-Agent");
      }
      request = builder.build();
    }
    Response response = chain.proceed(request);
    Headers headers = response.headers();
    if (headers.get("Content-Encoding") == null && headers.get(HIDDEN_CONTENT_ENCODING) == null) {
      return response;
    }
    Headers.Builder hidden = new Headers.Builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (name.equalsIgnoreCase(HIDDEN_CONTENT_ENCODING)) {
        continue; // a backend cannot smuggle values through our private name
      }
      hidden.addUnsafeNonAscii(
          name.equalsIgnoreCase("Content-Encoding") ? HIDDEN_CONTENT_ENCODING : name,
          headers.value(i));
    }
    return response.newBuilder().headers(hidden.build()).build();
  }
}
