package dev.offload.core.cache;

import dev.offload.core.Headers;
import java.util.Arrays;

/**
 * The stored responses of one {@link CacheKey}, one per variant (the request values their {@code
 * Vary} names), newest first, at most {@value #MAX_VARIANTS}. Immutable: a store replaces it.
 */
final class Variants {
  /** How many variants of one URL are kept; the oldest goes first. */
  static final int MAX_VARIANTS = 8;

  final StoredResponse[] responses;
  final int weight;
  final long keepUntilNanos;

  private Variants(StoredResponse[] responses, long nowNanos, long retentionNanos) {
    this.responses = responses;
    long w = 0;
    long keep = 0;
    for (StoredResponse r : responses) {
      w += r.weight;
      keep = Math.max(keep, r.keepNanos(nowNanos, retentionNanos));
    }
    this.weight = (int) Math.min(Integer.MAX_VALUE, w);
    this.keepUntilNanos = keep;
  }

  static Variants of(StoredResponse response, long nowNanos, long retentionNanos) {
    return new Variants(new StoredResponse[] {response}, nowNanos, retentionNanos);
  }

  /** Returns these variants with {@code response} first, replacing its own variant. */
  Variants with(StoredResponse response, long nowNanos, long retentionNanos) {
    StoredResponse[] next = new StoredResponse[Math.min(MAX_VARIANTS, responses.length + 1)];
    next[0] = response;
    int n = 1;
    for (StoredResponse r : responses) {
      if (n < next.length && !r.sameVariant(response)) {
        next[n++] = r;
      }
    }
    return new Variants(Arrays.copyOf(next, n), nowNanos, retentionNanos);
  }

  /** Returns the variant {@code request} selects, or null. */
  StoredResponse match(Headers request) {
    for (StoredResponse r : responses) {
      if (r.matches(request)) {
        return r;
      }
    }
    return null;
  }

  /** Whether any variant carries {@code tag}. */
  boolean tagged(String tag) {
    for (StoredResponse r : responses) {
      if (r.tags.contains(tag)) {
        return true;
      }
    }
    return false;
  }
}
