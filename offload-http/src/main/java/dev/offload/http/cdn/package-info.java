/**
 * CDN integration that needs I/O: {@link dev.offload.http.cdn.HttpCdnPurger}, which purges a
 * CDN's caches over HTTP.
 */
package dev.offload.http.cdn;
