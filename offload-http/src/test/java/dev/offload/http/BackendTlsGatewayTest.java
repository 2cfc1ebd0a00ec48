package dev.offload.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.offload.core.Backend;
import dev.offload.core.OffloadRouter;
import dev.offload.core.Route;
import dev.offload.core.failover.FailoverStrategy;
import dev.offload.http.Loopback.RawClient;
import dev.offload.http.Loopback.Response;
import dev.offload.http.forward.BackendTls;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.URI;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * TLS to a real TLS backend on loopback (MockWebServer), certificates generated here: a trusted
 * one works, and a wrong host, an expired or untrusted certificate, or a missing client
 * certificate get 502 with nothing of the request sent.
 */
@ParameterizedClass(name = "gateway on {0}")
@ArgumentsSource(Gateway.Selected.class)
class BackendTlsGatewayTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private static final HeldCertificate ROOT = new HeldCertificate.Builder()
      .certificateAuthority(0).commonName("test root").build();
  private static final HeldCertificate OTHER_ROOT = new HeldCertificate.Builder()
      .certificateAuthority(0).commonName("someone else's root").build();
  private static final HeldCertificate CLIENT = new HeldCertificate.Builder()
      .commonName("gateway").signedBy(ROOT).build();

  @Parameter Gateway server;
  @RegisterExtension final Closer closer = new Closer();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static HeldCertificate.Builder serverCert() {
    return new HeldCertificate.Builder().commonName("backend").addSubjectAlternativeName(
        "127.0.0.1").signedBy(ROOT);
  }

  private MockWebServer tlsBackend(HeldCertificate certificate, boolean requireClientCert)
      throws Exception {
    HandshakeCertificates handshake = new HandshakeCertificates.Builder()
        .heldCertificate(certificate)
        .addTrustedCertificate(ROOT.certificate())
        .build();
    MockWebServer backend = new MockWebServer();
    backend.useHttps(handshake.sslSocketFactory());
    if (requireClientCert) {
      backend.requireClientAuth();
    }
    backend.start(InetAddress.getByName("127.0.0.1"), 0);
    closer.add(backend);
    backend.enqueue(new MockResponse.Builder().code(200).body("secret data").build());
    return backend;
  }

  private Response get(MockWebServer backend, UnaryOperator<BackendTls.Builder> tls)
      throws Exception {
    OffloadRouter router = OffloadRouter.builder()
        .route("api", Route.prefix("/api/"), FailoverStrategy.to(
            Backend.of("orders", URI.create("https://127.0.0.1:" + backend.getPort()))))
        .build();
    BackendTls backendTls = tls.apply(BackendTls.builder("orders").meterRegistry(registry))
        .build();
    Gateway.Running gw = closer.add(server.start(OffloadExecutor.builder(router)
        .forwarding(f -> f.backendTls(backendTls)).build(), Gateway.Host.answering("host")));
    try (RawClient client = new RawClient(gw.port())) {
      return client.send("POST /api/orders HTTP/1.1\r\nHost: gw.example\r\n"
          + "Content-Length: 9\r\n\r\nsensitive").read();
    }
  }

  private static KeyStore clientKeys() throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("client", CLIENT.keyPair().getPrivate(), PASSWORD,
        new Certificate[] {CLIENT.certificate(), ROOT.certificate()});
    return keys;
  }

  @Test
  void aBackendCertificateSignedByTheTrustedPemBundleIsAccepted() throws Exception {
    MockWebServer backend = tlsBackend(serverCert().build(), false);
    Response response = get(backend, t -> t.trustPem(ROOT.certificatePem()));
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("secret data");
    assertThat(backend.takeRequest(10, TimeUnit.SECONDS).getBody().utf8())
        .isEqualTo("sensitive");
    double expiry = registry.get("offload.tls.certificate.expiry")
        .tags("backend", "orders", "certificate", "server").gauge().value();
    assertThat(expiry).isBetween(23 * 3600.0, 24 * 3600.0); // HeldCertificate: valid 24 h
  }

  @Test
  void aCertificateForAnotherHostIsRefusedWith502AndNothingSent() throws Exception {
    MockWebServer backend = tlsBackend(new HeldCertificate.Builder().commonName("x")
        .addSubjectAlternativeName("other.example").signedBy(ROOT).build(), false);
    assertThat(get(backend, t -> t.trustPem(ROOT.certificatePem())).status()).isEqualTo(502);
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void anExpiredCertificateIsRefusedWith502AndNothingSent() throws Exception {
    long now = System.currentTimeMillis();
    MockWebServer backend = tlsBackend(serverCert()
        .validityInterval(now - TimeUnit.DAYS.toMillis(2), now - TimeUnit.DAYS.toMillis(1))
        .build(), false);
    assertThat(get(backend, t -> t.trustPem(ROOT.certificatePem())).status()).isEqualTo(502);
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void anUntrustedCertificateIsRefusedWith502AndNothingSent() throws Exception {
    MockWebServer backend = tlsBackend(serverCert().build(), false);
    assertThat(get(backend, t -> t.trustPem(OTHER_ROOT.certificatePem())).status())
        .isEqualTo(502);
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void trustingAllStillVerifiesTheHostname() throws Exception {
    MockWebServer backend = tlsBackend(new HeldCertificate.Builder().commonName("x")
        .addSubjectAlternativeName("other.example").signedBy(OTHER_ROOT).build(), false);
    assertThat(get(backend, BackendTls.Builder::trustAllCertificatesInsecurely).status())
        .isEqualTo(502);
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void aBackendRequiringAClientCertificateGetsOurs() throws Exception {
    MockWebServer backend = tlsBackend(serverCert().build(), true);
    KeyStore keys = clientKeys();
    Response response = get(backend,
        t -> t.trustPem(ROOT.certificatePem()).clientCertificate(keys, PASSWORD));
    assertThat(response.status()).isEqualTo(200);
    assertThat(backend.takeRequest(10, TimeUnit.SECONDS).getHandshake().peerPrincipal()
        .getName()).contains("CN=gateway");
    assertThat(registry.get("offload.tls.certificate.expiry")
        .tags("backend", "orders", "certificate", "client").gauge().value())
        .isBetween(23 * 3600.0, 24 * 3600.0);
  }

  @Test
  void withoutAClientCertificateAnMtlsBackendIsRefusedWith502AndNothingSent()
      throws Exception {
    MockWebServer backend = tlsBackend(serverCert().build(), true);
    assertThat(get(backend, t -> t.trustPem(ROOT.certificatePem())).status()).isEqualTo(502);
    assertThat(backend.getRequestCount()).isZero();
  }

  @Test
  void settingsThatCannotWorkAreRefusedNamingThem() throws Exception {
    assertThatThrownBy(() -> BackendTls.builder("orders").trustPem("not a pem"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("trustPem");
    KeyStore empty = KeyStore.getInstance("PKCS12");
    empty.load(null, null);
    assertThatThrownBy(() -> BackendTls.builder("orders").clientCertificate(empty, PASSWORD))
        .hasMessageStartingWith("clientCertificate: the key store holds no private key");
    assertThatThrownBy(() -> BackendTls.builder(" ")).hasMessageContaining("blank");
  }

  @Test
  void theExpiryGaugeReadsTheInjectedClock() throws Exception {
    Clock later = Clock.fixed(Instant.now().plus(java.time.Duration.ofHours(25)),
        ZoneOffset.UTC);
    BackendTls.builder("orders").clientCertificate(clientKeys(), PASSWORD)
        .meterRegistry(registry).clock(later).build();
    assertThat(registry.get("offload.tls.certificate.expiry")
        .tags("certificate", "client").gauge().value()).isNegative();
  }
}
