package dev.offload.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostHeaderTest {
  @ParameterizedTest
  @ValueSource(strings = {"", "gw.example", "GW.Example:8443", "127.0.0.1", "127.0.0.1:18099",
      "localhost:", "[::1]", "[2001:db8::1]:80", "[::ffff:192.0.2.1]", "xn--bcher-kva.example",
      "a_b.example", "%41.example", "a!$&'()*+;=b"})
  void acceptsAnAuthorityWithoutUserinfo(String host) {
    assertThat(HostHeader.isValid(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a@127.0.0.1:18099", "user:pw@gw.example", "gw.example/path",
      "gw.example?q", "gw.example#f", "gw example", "gw.example\t", "\"gw\"", "gw\\example",
      ":80", "gw.example:80:80", "gw.example:65536", "gw.example:123456", "gw.example:8a",
      "[::1", "[::1]x", "[::1]:x", "[1.2.3.4]", "[fe80::1%eth0]", "[v1.abc]", "[abc.def]",
      "[::g]", "::1", "%4", "%zz.example", "gw<script>", "gw.example;a\u00e9"})
  void refusesAnythingElse(String host) {
    assertThat(HostHeader.isValid(host)).isFalse();
  }
}
