/**
 * The adapter for the JDK's {@code com.sun.net.httpserver.HttpServer}: {@link
 * dev.offload.http.jdk.OffloadHttpHandler}.
 */
package dev.offload.http.jdk;
