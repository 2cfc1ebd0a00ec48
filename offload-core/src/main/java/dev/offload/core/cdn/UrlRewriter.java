package dev.offload.core.cdn;

/**
 * Turns a logical asset path into the URL a page should use for it, so that the host's templates
 * emit CDN URLs (and fingerprinted ones, where the manifest has them) instead of the host's own.
 *
 * <pre>{@code
 * UrlRewriter assets = manifest.urls(URI.create("https://cdn.example.com"));
 * assets.url("/assets/app.css");   // https://cdn.example.com/assets/app.3f2a9c1b.css
 * assets.url("/assets/new.js");    // https://cdn.example.com/assets/new.js (not in the manifest)
 * }</pre>
 *
 * <p>Implementations are thread-safe and do no I/O. {@link AssetManifest#urls} is the usual one;
 * a lambda serves in tests.
 */
@FunctionalInterface
public interface UrlRewriter {
  /**
   * Returns the absolute URL for {@code logicalPath} (decoded text, such as {@code
   * /assets/app.css}), percent-encoded.
   *
   * @param logicalPath the logical path
   * @return the absolute URL for {@code logicalPath} (decoded text, such as {@code
   *     /assets/app.css}), percent-encoded
   * @throws IllegalArgumentException if {@code logicalPath} is not a valid asset path (see
   * {@link AssetManifest})
   */
  String url(String logicalPath);
}
