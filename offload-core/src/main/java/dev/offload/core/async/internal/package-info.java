/**
 * Implementation details of offloaded tasks, shared with offload-http. No compatibility promise:
 * anything here may change in any release.
 */
package dev.offload.core.async.internal;
