package dev.offload.core.cache;

/**
 * Told of every purge made on an {@link EdgeCache} through its purge methods (by an operator, or
 * by an invalidating write), after the purge: offload-redis's invalidation publishes them to the
 * fleet. Not told of purges carried out by {@link EdgeCache#apply}. Runs on the purging thread;
 * must not block.
 */
@FunctionalInterface
public interface PurgeListener {
  /**
   * Called after {@code purge} was carried out on this cache.
   *
   * @param purge what was purged
   */
  void purged(Purge purge);
}
