package dev.offload.core.cdn;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.hash.Hashing;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AssetManifestTest {
  private static final URI CDN = URI.create("https://cdn.example.com/static/");

  private static InputStream json(String text) {
    return new ByteArrayInputStream(text.getBytes(UTF_8));
  }

  @Test
  void readsAFlatJsonObjectInOrder() throws IOException {
    AssetManifest manifest = AssetManifest.fromJson(json("""
        {"/assets/app.css": "/assets/app.3f2a9c1b.css",
         "/assets/app.js": "/assets/app.9e8d7c6b.js"}"""));
    assertThat(manifest.size()).isEqualTo(2);
    assertThat(manifest.entries()).containsExactly(
        Map.entry("/assets/app.css", "/assets/app.3f2a9c1b.css"),
        Map.entry("/assets/app.js", "/assets/app.9e8d7c6b.js"));
    assertThat(manifest.hashedPath("/assets/app.js")).hasValue("/assets/app.9e8d7c6b.js");
    assertThat(manifest.hashedPath("/assets/other.js")).isEmpty();
  }

  @Test
  void readsAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("manifest.json");
    Files.writeString(file, "{\"/a.css\": \"/a.00112233.css\"}");
    assertThat(AssetManifest.fromJson(file).entries()).containsExactly(
        Map.entry("/a.css", "/a.00112233.css"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "relative logical     | {\"assets/a.css\": \"/assets/a.1.css\"}       | assets/a.css",
      "relative hashed      | {\"/assets/a.css\": \"assets/a.1.css\"}       | /assets/a.css",
      "dot-dot              | {\"/assets/a.css\": \"/assets/../a.1.css\"}   | /assets/a.css",
      "dot-dot logical      | {\"/../a.css\": \"/a.1.css\"}                 | /../a.css",
      "dot segment          | {\"/assets/./a.css\": \"/a.1.css\"}           | /assets/./a.css",
      "double slash         | {\"/a.css\": \"//evil.com/a.1.css\"}          | /a.css",
      "backslash            | {\"/a.css\": \"/\\\\evil.com/a.1.css\"}       | /a.css",
      "control char         | {\"/a.css\": \"/a.1.css\\r\\nX: y\"}          | /a.css",
      "tab in logical       | {\"/a\\t.css\": \"/a.1.css\"}                 | /a\\u0009.css",
      "query                | {\"/a.css\": \"/a.css?v=1\"}                  | /a.css",
      "fragment             | {\"/a.css\": \"/a.css#x\"}                    | /a.css",
      "directory            | {\"/a/\": \"/a.1/\"}                          | /a/",
      "empty                | {\"\": \"/a.1.css\"}                          | ''",
  })
  void refusesABadEntryNamingIt(String name, String document, String entry) {
    assertThatThrownBy(() -> AssetManifest.fromJson(json(document)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("asset manifest entry '" + entry + "'");
  }

  @Test
  void refusesANonStringValueAndANonObjectDocument() {
    assertThatThrownBy(() -> AssetManifest.fromJson(json("{\"/a.css\": {\"file\": \"x\"}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'/a.css'").hasMessageContaining("string");
    assertThatThrownBy(() -> AssetManifest.fromJson(json("[\"/a.css\"]")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON object");
  }

  @Test
  void refusesARepeatedMemberAndMalformedJson() {
    assertThatThrownBy(() -> AssetManifest.fromJson(json(
        "{\"/a.css\": \"/a.1.css\", \"/a.css\": \"/a.2.css\"}")))
        .isInstanceOf(IOException.class).hasMessageContaining("/a.css");
    assertThatThrownBy(() -> AssetManifest.fromJson(json("{\"/a.css\": ")))
        .isInstanceOf(IOException.class);
  }

  @Test
  void ofValidatesLikeFromJson() {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("/ok.css", "/ok.1.css");
    entries.put("/bad.css", "/x/../../bad.css");
    assertThatThrownBy(() -> AssetManifest.of(entries))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("asset manifest entry '/bad.css'")
        .hasMessageContaining("'..'");
  }

  @Test
  void hashDirectoryNamesFilesByTheirContentDeterministically(@TempDir Path root)
      throws IOException {
    Files.createDirectories(root.resolve("css"));
    Files.writeString(root.resolve("css/app.css"), "body{}");
    Files.writeString(root.resolve("LICENSE"), "MIT");
    String cssHash = Hashing.sha256().hashString("body{}", UTF_8).toString().substring(0, 8);
    String licenseHash = Hashing.sha256().hashString("MIT", UTF_8).toString().substring(0, 8);

    AssetManifest manifest = AssetManifest.hashDirectory(root, "/assets/");

    assertThat(manifest.entries()).containsExactly(
        Map.entry("/assets/LICENSE", "/assets/LICENSE." + licenseHash),
        Map.entry("/assets/css/app.css", "/assets/css/app." + cssHash + ".css"));
    assertThat(AssetManifest.hashDirectory(root, "/assets").entries())
        .isEqualTo(manifest.entries());
    assertThat(AssetManifest.hashDirectory(root, "/").entries())
        .containsEntry("/css/app.css", "/css/app." + cssHash + ".css");

    Files.writeString(root.resolve("css/app.css"), "body{color:red}");
    assertThat(AssetManifest.hashDirectory(root, "/assets").hashedPath("/assets/css/app.css"))
        .get().isNotEqualTo("/assets/css/app." + cssHash + ".css");
  }

  @Test
  void hashDirectoryRefusesABadPrefixAndAMissingRoot(@TempDir Path root) {
    assertThatThrownBy(() -> AssetManifest.hashDirectory(root, "assets"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("assets");
    assertThatThrownBy(() -> AssetManifest.hashDirectory(root, "/a/../b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/a/../b");
    assertThatThrownBy(() -> AssetManifest.hashDirectory(root.resolve("nope"), "/assets"))
        .isInstanceOf(IOException.class).hasMessageContaining("nope");
  }

  @Test
  void urlRewriterGivesTheFingerprintedCdnUrlOrThePlainOne() {
    AssetManifest manifest = AssetManifest.of(Map.of(
        "/assets/app.css", "/assets/app.3f2a9c1b.css",
        "/assets/caf\u00e9 1.png", "/assets/caf\u00e9 1.0badcafe.png"));
    UrlRewriter assets = manifest.urls(CDN);
    assertThat(assets.url("/assets/app.css"))
        .isEqualTo("https://cdn.example.com/static/assets/app.3f2a9c1b.css");
    assertThat(assets.url("/assets/caf\u00e9 1.png"))
        .isEqualTo("https://cdn.example.com/static/assets/caf%C3%A9%201.0badcafe.png");
    assertThat(assets.url("/assets/new.js")).isEqualTo("https://cdn.example.com/static/assets/new.js");
    assertThat(assets.url("/assets/100%.txt"))
        .isEqualTo("https://cdn.example.com/static/assets/100%25.txt");
    assertThatThrownBy(() -> assets.url("//evil.com/x.js"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("//evil.com/x.js");
    assertThatThrownBy(() -> assets.url("/a/../../x.js"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
