package dev.offload.http.forward;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.Enumeration;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * TLS towards one backend: whom to trust (a PEM bundle or a {@link KeyStore}, instead of the
 * JVM's default CAs), which client certificate to present (mTLS), and the expiry of both as the
 * gauge {@code offload.tls.certificate.expiry} (seconds until {@code notAfter}; tags {@code
 * backend}, {@code certificate} = {@code client} or {@code server}). Hostname verification is
 * always on (OkHttp's verifier): a certificate for another host fails.
 *
 * <pre>{@code
 * BackendTls tls = BackendTls.builder("orders")
 *     .trustPem(Files.readString(Path.of("/etc/offload/orders-ca.pem")))
 *     .clientCertificate(clientKeyStore, password)       // PKCS12 with one key entry
 *     .meterRegistry(registry)
 *     .build();
 * OffloadExecutor.builder(router).forwarding(f -> f.backendTls(tls)).build();
 * }</pre>
 *
 * <p>A handshake that fails (untrusted, expired, wrong host, client certificate refused) is
 * answered 502 by the forwarder, and no byte of the request reaches the backend: the request is
 * written only after the handshake.
 *
 * <p>Immutable and thread-safe.
 */
public final class BackendTls {
  private static final System.Logger LOG = System.getLogger(BackendTls.class.getName());

  private final String backend;
  private final SSLSocketFactory socketFactory;
  private final X509TrustManager trustManager;

  private BackendTls(Builder b) {
    this.backend = b.backend;
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(b.trustStore);
      X509TrustManager trust = b.trustAll ? new TrustingEverything()
          : (X509TrustManager) tmf.getTrustManagers()[0];
      KeyManager[] keys = null;
      if (b.clientKeys != null) {
        KeyManagerFactory kmf =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(b.clientKeys, b.clientKeyPassword);
        keys = kmf.getKeyManagers();
      }
      AtomicLong serverNotAfter = new AtomicLong(Long.MIN_VALUE);
      this.trustManager = new RecordingTrustManager(trust, serverNotAfter);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, new TrustManager[] {trustManager}, null);
      this.socketFactory = context.getSocketFactory();
      if (b.registry != null) {
        Clock clock = b.clock;
        if (b.clientCertificate != null) {
          long notAfter = b.clientCertificate.getNotAfter().getTime();
          Gauge.builder("offload.tls.certificate.expiry",
                  () -> (notAfter - clock.millis()) / 1000.0)
              .description("Seconds until the certificate expires (negative: expired)")
              .baseUnit("seconds")
              .tags("backend", backend, "certificate", "client")
              .register(b.registry);
        }
        Gauge.builder("offload.tls.certificate.expiry", serverNotAfter,
                n -> n.get() == Long.MIN_VALUE ? Double.NaN : (n.get() - clock.millis()) / 1000.0)
            .description("Seconds until the certificate expires (negative: expired)")
            .baseUnit("seconds")
            .tags("backend", backend, "certificate", "server")
            .register(b.registry);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("backendTls(" + backend + "): " + e.getMessage(), e);
    }
    if (b.trustAll) {
      LOG.log(System.Logger.Level.WARNING, "backend '" + backend + "': TLS certificates are NOT "
          + "verified (trustAllCertificatesInsecurely): anyone on the path can read and change "
          + "this traffic");
    }
  }

  /**
   * Returns a builder for the backend named {@code backend}.
   *
   * @param backend the {@link dev.offload.core.Backend}'s name
   * @return a new builder
   * @throws IllegalArgumentException if {@code backend} is blank
   */
  public static Builder builder(String backend) {
    requireNonNull(backend, "backend");
    if (backend.isBlank()) {
      throw new IllegalArgumentException("backendTls: backend name is blank");
    }
    return new Builder(backend);
  }

  /**
   * Returns the backend's name.
   *
   * @return the name
   */
  public String backend() {
    return backend;
  }

  /** Configures {@code client} for this backend (called once per backend). */
  void applyTo(OkHttpClient.Builder client) {
    client.sslSocketFactory(socketFactory, trustManager);
  }

  /** Records the leaf's expiry of every chain it accepted. */
  private static final class RecordingTrustManager extends X509ExtendedTrustManager {
    private final X509TrustManager delegate;
    private final AtomicLong notAfter;

    RecordingTrustManager(X509TrustManager delegate, AtomicLong notAfter) {
      this.delegate = delegate;
      this.notAfter = notAfter;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
      notAfter.set(chain[0].getNotAfter().getTime());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      if (delegate instanceof X509ExtendedTrustManager extended) {
        extended.checkServerTrusted(chain, authType, socket);
      } else {
        delegate.checkServerTrusted(chain, authType);
      }
      notAfter.set(chain[0].getNotAfter().getTime());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      if (delegate instanceof X509ExtendedTrustManager extended) {
        extended.checkServerTrusted(chain, authType, engine);
      } else {
        delegate.checkServerTrusted(chain, authType);
      }
      notAfter.set(chain[0].getNotAfter().getTime());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a forwarder does not accept client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }

  /** The insecure opt-in: accepts any chain. Hostname verification still runs. */
  private static final class TrustingEverything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a forwarder does not accept client certificates");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /** Builds a {@link BackendTls}. Not thread-safe. */
  public static final class Builder {
    private final String backend;
    private KeyStore trustStore;
    private KeyStore clientKeys;
    private char[] clientKeyPassword;
    private X509Certificate clientCertificate;
    private boolean trustAll;
    private MeterRegistry registry;
    private Clock clock = Clock.systemUTC();

    private Builder(String backend) {
      this.backend = backend;
    }

    /**
     * Trusts exactly the CA certificates in {@code pem} (one or more {@code BEGIN CERTIFICATE}
     * blocks) instead of the JVM's default CAs.
     *
     * @param pem the PEM bundle
     * @return this builder
     * @throws IllegalArgumentException naming {@code trustPem} if it holds no certificate or
     *     does not parse
     */
    public Builder trustPem(String pem) {
      requireNonNull(pem, "trustPem");
      try {
        Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
            .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        if (certificates.isEmpty()) {
          throw new IllegalArgumentException("trustPem: no certificate in the PEM bundle");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
          store.setCertificateEntry("ca-" + i++, c);
        }
        this.trustStore = store;
      } catch (GeneralSecurityException | java.io.IOException e) {
        throw new IllegalArgumentException("trustPem: not a PEM certificate bundle: "
            + e.getMessage(), e);
      }
      return this;
    }

    /**
     * Trusts the certificates of {@code store} instead of the JVM's default CAs.
     *
     * @param store a key store with trusted certificate entries
     * @return this builder
     * @throws NullPointerException if {@code store} is null
     */
    public Builder trustStore(KeyStore store) {
      this.trustStore = requireNonNull(store, "trustStore");
      return this;
    }

    /**
     * Presents the client certificate of {@code keys} (mTLS): a key store with one private-key
     * entry and its chain, such as a PKCS12 file.
     *
     * @param keys the key store
     * @param password the key's password
     * @return this builder
     * @throws IllegalArgumentException naming {@code clientCertificate} if {@code keys} holds no
     *     private key entry with an X.509 certificate
     */
    public Builder clientCertificate(KeyStore keys, char[] password) {
      requireNonNull(keys, "clientCertificate");
      requireNonNull(password, "password");
      try {
        X509Certificate found = null;
        for (Enumeration<String> aliases = keys.aliases(); aliases.hasMoreElements(); ) {
          String alias = aliases.nextElement();
          if (keys.isKeyEntry(alias) && keys.getCertificate(alias) instanceof X509Certificate c) {
            found = c;
          }
        }
        if (found == null) {
          throw new IllegalArgumentException(
              "clientCertificate: the key store holds no private key with an X.509 certificate");
        }
        this.clientCertificate = found;
      } catch (java.security.KeyStoreException e) {
        throw new IllegalArgumentException("clientCertificate: " + e.getMessage(), e);
      }
      this.clientKeys = keys;
      this.clientKeyPassword = password.clone();
      return this;
    }

    /**
     * INSECURE: accepts any certificate chain from this backend (hostname verification still
     * runs). Logs a warning when built. For a test rig only.
     *
     * @return this builder
     */
    public Builder trustAllCertificatesInsecurely() {
      this.trustAll = true;
      return this;
    }

    /**
     * Sets the registry for {@code offload.tls.certificate.expiry}; none by default.
     *
     * @param registry the registry
     * @return this builder
     * @throws NullPointerException if {@code registry} is null
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Sets the wall clock the expiry gauge reads (certificates expire in wall time); default UTC.
     *
     * @param clock the clock
     * @return this builder
     * @throws NullPointerException if {@code clock} is null
     */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Returns the TLS settings.
     *
     * @return the settings
     * @throws IllegalArgumentException if the key material cannot be used
     */
    public BackendTls build() {
      return new BackendTls(this);
    }
  }
}
