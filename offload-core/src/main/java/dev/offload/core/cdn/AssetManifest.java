package dev.offload.core.cdn;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Maps logical asset paths to content-hashed (fingerprinted) ones: {@code /assets/app.css} to
 * {@code /assets/app.3f2a9c1b.css}. A fingerprinted URL names one content forever, so the CDN
 * and browsers may cache it for a year ({@link CachePolicy#immutable()}), and a new release
 * gets new URLs instead of stale copies.
 *
 * <pre>{@code
 * AssetManifest manifest = AssetManifest.fromJson(Path.of("dist/manifest.json"));  // from your build
 * AssetManifest manifest = AssetManifest.hashDirectory(Path.of("static"), "/assets"); // or at start-up
 * .route(Route.get("/assets/**"), CdnStrategy.redirect(cdn).fingerprinted(manifest))
 * UrlRewriter assets = manifest.urls(cdn);            // for the host's templates
 * }</pre>
 *
 * <p>Paths are decoded text (as {@link dev.offload.core.OffloadRequest#path()} is); they are
 * percent-encoded when written into a URL. Every path, logical and hashed, must be absolute and
 * must name a file, with no {@code .} or {@code ..} segment, no {@code //}, no backslash, no
 * {@code ?} or {@code #} and no control character: a manifest entry that breaks a rule is
 * refused when the manifest is built, with an exception that names the entry.
 *
 * <p>Immutable and thread-safe; load it once at start-up and share it.
 */
public final class AssetManifest {
  /** How many hex digits of the SHA-256 {@link #hashDirectory} puts in a name. */
  public static final int HASH_HEX_DIGITS = 8;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  /** Logical path to hashed path, as given. */
  private final Map<String, String> entries;
  /** Logical path to hashed path, percent-encoded for a URL. */
  private final Map<String, String> encoded;

  private AssetManifest(Map<String, String> entries) {
    this.entries = Collections.unmodifiableMap(entries);
    Map<String, String> enc = new LinkedHashMap<>(entries.size() * 2);
    entries.forEach((logical, hashed) -> enc.put(logical, AssetPath.encode(hashed)));
    this.encoded = enc;
  }

  /**
   * Returns a manifest of {@code entries} (logical path to hashed path), in their order.
   *
   * @param entries the entries
   * @return a manifest of {@code entries} (logical path to hashed path), in their order
   * @throws IllegalArgumentException naming the entry if a path breaks the rules above
   */
  public static AssetManifest of(Map<String, String> entries) {
    requireNonNull(entries, "entries");
    Map<String, String> checked = new LinkedHashMap<>(entries.size() * 2);
    entries.forEach((logical, hashed) -> {
      requireNonNull(logical, "entries holds a null logical path");
      requireNonNull(hashed, "entries holds a null hashed path for '" + logical + "'");
      checked.put(checkEntry(logical, hashed, logical), hashed);
    });
    return new AssetManifest(checked);
  }

  /**
   * Reads a manifest file: one flat JSON object whose members map logical paths to hashed paths,
   * {@code {"/assets/app.css": "/assets/app.3f2a9c1b.css"}}.
   *
   * @param file the file
   * @return the manifest
   * @throws IOException if the file cannot be read or is not JSON
   * @throws IllegalArgumentException naming the entry if one is not a string or breaks the rules,
   * or if the document is not an object or repeats a member
   */
  public static AssetManifest fromJson(Path file) throws IOException {
    requireNonNull(file, "file");
    try (InputStream in = Files.newInputStream(file)) {
      return fromJson(in);
    }
  }

  /**
   * Reads a manifest as {@link #fromJson(Path)} does, from {@code json}; does not close it.
   *
   * @param json the json
   * @return the manifest
   * @throws IOException if the stream cannot be read or is not JSON (a repeated member too)
   * @throws IllegalArgumentException naming the entry if one is not a string or breaks the rules,
   * or if the document is not an object
   */
  public static AssetManifest fromJson(InputStream json) throws IOException {
    requireNonNull(json, "json");
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("asset manifest must be a JSON object of logical path "
          + "to hashed path, got " + (root == null ? "nothing" : root.getNodeType()));
    }
    Map<String, String> entries = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String logical = field.getKey();
      if (!field.getValue().isTextual()) {
        throw new IllegalArgumentException("asset manifest entry '" + AssetPath.printable(logical)
            + "' must map to a string path, got " + field.getValue().getNodeType());
      }
      String hashed = field.getValue().textValue();
      entries.put(checkEntry(logical, hashed, logical), hashed);
    }
    return new AssetManifest(entries);
  }

  /**
   * Fingerprints every regular file under {@code root}: a file {@code css/app.css} becomes the
   * entry {@code urlPrefix + "/css/app.css"} to {@code urlPrefix + "/css/app.<hash>.css"}, where
   * {@code <hash>} is the first {@value #HASH_HEX_DIGITS} hex digits of the SHA-256 of its
   * content (before the last extension; appended when the name has none). Symbolic links are
   * not followed. Reads every file: call it once, at start-up. The result depends only on the
   * files' names and contents, so every instance of the host computes the same names.
   *
   * <p>The host (or the CDN's origin) must then serve each hashed path with the file's content,
   * with {@link CachePolicy#immutable()}.
   *
   * @param urlPrefix the URL path under which {@code root} is served, {@code "/assets"} (or
   * {@code "/"})
   * @param root the root
   * @return the manifest
   * @throws IOException if {@code root} is not a directory or a file cannot be read
   * @throws IllegalArgumentException naming the file if a path breaks the rules above
   */
  public static AssetManifest hashDirectory(Path root, String urlPrefix) throws IOException {
    requireNonNull(root, "root");
    requireNonNull(urlPrefix, "urlPrefix");
    String prefix = urlPrefix;
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    if (!prefix.isEmpty()) {
      AssetPath.check("urlPrefix", prefix);
    } else if (!urlPrefix.startsWith("/")) {
      throw new IllegalArgumentException("urlPrefix must be an absolute path, got '"
          + urlPrefix + "'");
    }
    if (!Files.isDirectory(root)) {
      throw new IOException("asset root is not a directory: " + root);
    }
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(files::add);
    }
    List<String[]> named = new ArrayList<>(files.size());
    for (Path file : files) {
      StringBuilder relative = new StringBuilder();
      for (Path part : root.relativize(file)) {
        relative.append('/').append(part);
      }
      String hash = MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString()
          .substring(0, HASH_HEX_DIGITS);
      named.add(new String[] {prefix + relative, prefix + fingerprint(relative.toString(), hash)});
    }
    named.sort((a, b) -> a[0].compareTo(b[0]));
    Map<String, String> entries = new LinkedHashMap<>(named.size() * 2);
    for (String[] entry : named) {
      entries.put(checkEntry(entry[0], entry[1], entry[0]), entry[1]);
    }
    return new AssetManifest(entries);
  }

  /** {@code /css/app.css} with {@code 3f2a9c1b}: {@code /css/app.3f2a9c1b.css}. */
  private static String fingerprint(String path, String hash) {
    int slash = path.lastIndexOf('/');
    int dot = path.lastIndexOf('.');
    if (dot <= slash + 1) { // no extension, or a dot file such as .htaccess
      return path + '.' + hash;
    }
    return path.substring(0, dot) + '.' + hash + path.substring(dot);
  }

  private static String checkEntry(String logical, String hashed, String entry) {
    String problem = AssetPath.problem(logical);
    if (problem == null) {
      problem = AssetPath.problem(hashed);
      if (problem != null) {
        problem = "maps to '" + AssetPath.printable(hashed) + "', which " + problem;
      }
    } else {
      problem = "logical path " + problem;
    }
    if (problem != null) {
      throw new IllegalArgumentException(
          "asset manifest entry '" + AssetPath.printable(entry) + "': " + problem);
    }
    return logical;
  }

  /**
   * Returns the hashed path for {@code logicalPath} (decoded text), if the manifest has one.
   *
   * @param logicalPath the logical path
   * @return the hashed path for {@code logicalPath} (decoded text), if the manifest has one
   */
  public Optional<String> hashedPath(String logicalPath) {
    return Optional.ofNullable(entries.get(requireNonNull(logicalPath, "logicalPath")));
  }

  /** Returns the hashed path percent-encoded for a URL, or null. */
  String encodedHashedPath(String logicalPath) {
    return encoded.get(logicalPath);
  }

  /**
   * Returns the entries, logical path to hashed path, in order; unmodifiable.
   *
   * @return the entries, logical path to hashed path, in order; unmodifiable
   */
  public Map<String, String> entries() {
    return entries;
  }

  /**
   * Returns the number of entries.
   *
   * @return the number of entries
   */
  public int size() {
    return entries.size();
  }

  /**
   * Returns a rewriter that gives, for a logical path, the URL under {@code cdnBase} of its
   * hashed path, or of the logical path itself when the manifest has no entry for it.
   *
   * @param cdnBase the cdn base
   * @return a rewriter that gives, for a logical path, the URL under {@code cdnBase} of its hashed
   *     path, or of the logical path itself when the manifest has no entry for it
   * @throws IllegalArgumentException unless {@code cdnBase} is an absolute http(s) URI with a
   * host and no user info, query or fragment
   */
  public UrlRewriter urls(URI cdnBase) {
    String prefix = CdnBase.prefix(cdnBase);
    return logicalPath -> {
      AssetPath.check("logical path", requireNonNull(logicalPath, "logicalPath"));
      String hashed = encoded.get(logicalPath);
      return prefix + (hashed != null ? hashed : AssetPath.encode(logicalPath));
    };
  }

  @Override
  public String toString() {
    return "AssetManifest(" + entries.size() + " entries)";
  }
}
