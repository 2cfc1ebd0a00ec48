/**
 * The router core: {@link dev.offload.core.OffloadRouter} decides per request, without I/O, what
 * happens to an {@link dev.offload.core.OffloadRequest}, returning a {@link
 * dev.offload.core.Decision}.
 */
package dev.offload.core;
