/**
 * Scale-out on Redis through Lettuce: rate limits shared by a fleet of gateways, durable async
 * tasks on Redis Streams, and edge-cache invalidation that reaches every instance.
 */
package dev.offload.redis;
