/**
 * Static content offloading: CDN redirects with fingerprinted asset URLs ({@link
 * dev.offload.core.cdn.CdnRedirect}, {@link dev.offload.core.cdn.AssetManifest}, {@link
 * dev.offload.core.cdn.UrlRewriter}), cache headers for a CDN in front of the host ({@link
 * dev.offload.core.cdn.CachePolicy}), purging ({@link dev.offload.core.cdn.CdnPurger}), and
 * answers from memory.
 */
package dev.offload.core.cdn;
