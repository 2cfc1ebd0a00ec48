/**
 * Durable async tasks on Redis: {@link dev.offload.redis.tasks.RedisTaskStore} keeps task
 * snapshots, results and idempotency keys where every instance of a fleet reads them, and {@link
 * dev.offload.redis.tasks.RedisTaskQueue} is a durable queue on a Redis Stream with a consumer
 * group, which any instance's workers take tasks from (at least once).
 */
package dev.offload.redis.tasks;
