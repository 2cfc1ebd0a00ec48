package dev.offload.core.cdn;

import java.net.URI;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;

/**
 * Removes content from a CDN's caches, by URL or by tag (the tags a {@link CachePolicy} wrote
 * in {@code Surrogate-Key} and {@code Cache-Tag}), for when content changed before its cache
 * lifetime ran out.
 *
 * <pre>{@code
 * CdnPurger purger = HttpCdnPurger.builder(URI.create("https://purge.example.com/v1")).build();
 * purger.purgeTags(List.of("docs")).whenComplete((result, failure) -> ...);
 * }</pre>
 *
 * <p>Purging is I/O, so it never happens in a strategy: the host calls it when its content
 * changes. Both methods return at once; the future completes with a {@link PurgeResult} when the
 * CDN accepted the purge, or exceptionally with a {@link CdnPurgeException} saying why not, after
 * any retries. A failure is never silently dropped. Implementations are thread-safe. {@code
 * dev.offload.http.cdn.HttpCdnPurger} (offload-http) is the HTTP implementation.
 */
public interface CdnPurger {
  /**
   * Purges these absolute URLs.
   *
   * @param urls the urls
   * @return a future of the CDN's answer
   * @throws IllegalArgumentException if a URL is not absolute http(s) with a host
   */
  CompletableFuture<PurgeResult> purgeUrls(Collection<URI> urls);

  /**
   * Purges everything tagged with any of these tags.
   *
   * @param tags the tags
   * @return a future of the CDN's answer
   * @throws IllegalArgumentException if a tag is not a token (a tag that {@link CachePolicy}
   * would not have written)
   */
  CompletableFuture<PurgeResult> purgeTags(Collection<String> tags);
}
