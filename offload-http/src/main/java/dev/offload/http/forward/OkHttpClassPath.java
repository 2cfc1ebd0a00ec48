package dev.offload.http.forward;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import okhttp3.OkHttp;

/**
 * Checks, once, that the class path has exactly one OkHttp and that it is OkHttp 5. OkHttp 5 is
 * {@code com.squareup.okhttp3:okhttp-jvm} on Maven, OkHttp 4 is {@code okhttp}: the artifact ids
 * differ, so Maven keeps both when an application already has OkHttp 4 (through Retrofit, say),
 * and the forwarder would silently run on whichever jar's classes load first.
 */
final class OkHttpClassPath {
  /** The exclusion that removes OkHttp 4, as a user pastes it into the dependency that brings it. */
  static final String EXCLUSION = "<exclusion><groupId>com.squareup.okhttp3</groupId>"
      + "<artifactId>okhttp</artifactId></exclusion>";

  private static final Optional<String> PROBLEM = problem(
      locations(OkHttpClassPath.class.getClassLoader()), OkHttp.VERSION);

  private OkHttpClassPath() {}

  /**
   * Throws when the class path has two OkHttp jars or one that is not OkHttp 5.
   *
   * @throws IllegalStateException naming the jars found and the exclusion to add
   */
  static void requireOkHttp5() {
    if (PROBLEM.isPresent()) {
      throw new IllegalStateException(PROBLEM.get());
    }
  }

  /** Returns what is wrong with OkHttp found at {@code locations}, of {@code version}, if anything. */
  static Optional<String> problem(List<URL> locations, String version) {
    if (locations.size() > 1) {
      return Optional.of("offload needs one OkHttp, version 5 (com.squareup.okhttp3:okhttp-jvm), "
          + "but the class path has " + locations.size() + " copies of okhttp3.OkHttpClient: "
          + locations + ". OkHttp 4 (com.squareup.okhttp3:okhttp 4.x, often through Retrofit) is "
          + "a different artifact, so Maven keeps both. Add " + EXCLUSION + " to the dependency "
          + "that brings OkHttp 4 (mvn dependency:tree -Dincludes=com.squareup.okhttp3 shows it); "
          + "OkHttp 5 serves code written for OkHttp 4.");
    }
    if (!version.startsWith("5.")) {
      return Optional.of("offload needs OkHttp 5 (com.squareup.okhttp3:okhttp-jvm 5.x) but found "
          + "OkHttp " + version + (locations.isEmpty() ? "" : " at " + locations.get(0))
          + ": depend on okhttp-jvm 5 (the offload-bom's version) and add " + EXCLUSION
          + " to the dependency that brings OkHttp " + version + ".");
    }
    return Optional.empty();
  }

  private static List<URL> locations(ClassLoader loader) {
    try {
      ClassLoader l = loader != null ? loader : ClassLoader.getSystemClassLoader();
      return new ArrayList<>(Collections.list(l.getResources("okhttp3/OkHttpClient.class")));
    } catch (IOException e) {
      return List.of(); // cannot look: no check rather than a false alarm
    }
  }
}
