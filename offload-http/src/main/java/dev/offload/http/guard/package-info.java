/**
 * The parts of the admission guards that do I/O, outside {@code decide}: {@link
 * dev.offload.http.guard.RemoteJwkSet}, a JWKS fetched with OkHttp in the background and read
 * from memory by {@link dev.offload.core.guard.JwtAuthenticator}.
 */
package dev.offload.http.guard;
