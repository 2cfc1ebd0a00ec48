/** Static content offloading: CDN redirects and answers from memory. */
package dev.offload.core.cdn;
