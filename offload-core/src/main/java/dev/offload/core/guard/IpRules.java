package dev.offload.core.guard;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import dev.offload.core.DecisionContext;
import dev.offload.core.Guard;
import dev.offload.core.GuardVerdict;
import dev.offload.core.OffloadRequest;
import dev.offload.core.internal.Cidr;
import dev.offload.core.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A guard that admits or denies by the client's address against lists of IPv4 and IPv6 networks
 * in CIDR notation, denying with 403.
 *
 * <pre>{@code
 * OffloadRouter.builder()
 *     .guard("ip", IpRules.denyList().add("203.0.113.0/24").add("2001:db8:bad::/48").build())
 *     .guard("per-client", rateLimit)
 *     ...
 * IpRules.allowList().add("10.0.0.0/8").add("::1").build()   // everything else: 403
 * }</pre>
 *
 * <p>Two modes: an {@linkplain #allowList() allow list} denies every address it does not list
 * (403 {@code client address not allowed}); a {@linkplain #denyList() deny list} denies the
 * addresses it lists (403 {@code client address denied}) and admits the rest. The address is
 * {@link OffloadRequest#clientAddress()}: behind trusted proxies, the one the executor resolved
 * from the forwarding chain; a forged {@code X-Forwarded-For} from an untrusted peer does not
 * change it. An IPv4-mapped IPv6 address is its IPv4 address.
 *
 * <p><b>Add it first.</b> Guards run in the order added, so a denied address should be refused
 * before a rate limit creates a bucket for it or an authentication guard does work for it.
 *
 * <p>Immutable and thread-safe; reads no clock and holds no state, so explaining is deciding.
 */
public final class IpRules implements Guard {
  /** The default name, used in metrics: {@value}. */
  public static final String DEFAULT_NAME = "ip-rules";

  private final boolean allowList;
  private final Cidr[] networks;
  private final GuardVerdict deny;
  private final Counter admitted;
  private final Counter denied;
  private final String description;

  private IpRules(Builder b) {
    this.allowList = b.allowList;
    this.networks = b.networks.toArray(new Cidr[0]);
    this.deny = GuardVerdict.deny(
        403, allowList ? "client address not allowed" : "client address denied");
    if (b.registry != null) {
      admitted = GuardMetrics.decisions(b.registry, b.name, "admitted");
      denied = GuardMetrics.decisions(b.registry, b.name, "denied");
    } else {
      admitted = null;
      denied = null;
    }
    this.description = (allowList ? "IpRules(allow only " : "IpRules(deny ") + b.networks + ")";
  }

  /**
   * Returns a builder of rules that admit only the networks added, and deny everything else.
   *
   * @return a builder of rules that admit only the networks added, and deny everything else
   */
  public static Builder allowList() {
    return new Builder(true);
  }

  /**
   * Returns a builder of rules that deny the networks added, and admit everything else.
   *
   * @return a builder of rules that deny the networks added, and admit everything else
   */
  public static Builder denyList() {
    return new Builder(false);
  }

  /**
   * Returns whether {@code address} is in one of the networks listed.
   *
   * @param address the address
   * @return whether {@code address} is in one of the networks listed
   */
  public boolean lists(InetAddress address) {
    requireNonNull(address, "address");
    for (Cidr network : networks) {
      if (network.contains(address)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public GuardVerdict check(OffloadRequest request, DecisionContext context) {
    InetAddress address = request.clientAddress();
    boolean listed = lists(address);
    if (context.explaining()) {
      context.note("clientAddress", InetAddresses.toAddrString(address));
      context.note("listed", listed);
    }
    if (listed == allowList) {
      if (admitted != null && !context.explaining()) {
        admitted.increment();
      }
      return GuardVerdict.admit();
    }
    if (denied != null && !context.explaining()) {
      denied.increment();
    }
    return deny;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public String toString() {
    return description;
  }

  /** Builds {@link IpRules}. Not thread-safe. */
  public static final class Builder {
    private final boolean allowList;
    private final List<Cidr> networks = new ArrayList<>();
    private String name = DEFAULT_NAME;
    private MeterRegistry registry;

    private Builder(boolean allowList) {
      this.allowList = allowList;
    }

    /**
     * Adds a network, e.g. {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address
     * ({@code 192.0.2.7}, {@code ::1}). {@code 0.0.0.0/0} is every IPv4 address, {@code ::/0}
     * every IPv6 one.
     *
     * @param cidr the cidr
     * @return this builder
     * @throws IllegalArgumentException if {@code cidr} is not an IP literal with an optional
     * prefix length, or has bits set after the prefix ({@code 10.0.0.1/8})
     */
    public Builder add(String cidr) {
      networks.add(Cidr.parse(requireNonNull(cidr, "cidr")));
      return this;
    }

    /**
     * Adds every network of {@code cidrs}.
     *
     * @param cidrs the cidrs
     * @return this builder
     * @throws IllegalArgumentException as {@link #add}
     */
    public Builder addAll(Iterable<String> cidrs) {
      requireNonNull(cidrs, "cidrs");
      for (String cidr : cidrs) {
        add(cidr);
      }
      return this;
    }

    /**
     * Sets the name in metrics ({@code guard} tag); default {@value #DEFAULT_NAME}.
     *
     * @param name the name
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder name(String name) {
      this.name = Settings.notBlank("name", name);
      return this;
    }

    /**
     * Counts {@code offload.guard.decisions} ({@code admitted}, {@code denied}).
     *
     * @param registry the meter registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Returns the rules. An empty allow list denies everyone; an empty deny list admits
     * everyone.
     *
     * @return the rules
     */
    public IpRules build() {
      return new IpRules(this);
    }
  }
}
