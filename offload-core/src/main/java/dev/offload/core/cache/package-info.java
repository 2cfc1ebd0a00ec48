/** Responses kept in process, answered without a backend. The edge cache grows here. */
package dev.offload.core.cache;
