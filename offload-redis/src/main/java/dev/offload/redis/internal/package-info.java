/** Internal to offload-redis: not an API, may change in any release. */
package dev.offload.redis.internal;
