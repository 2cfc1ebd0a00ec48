package dev.offload.http;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxies in front of this server, as CIDR blocks, whose members are trusted to tell us who
 * their client was (in {@code X-Forwarded-For}) and whose forwarding headers are appended to;
 * and the rule that finds the client behind them. Everyone else's forwarding headers are
 * dropped. Parsed once and shared by the executor and the forwarder.
 *
 * <pre>{@code
 * TrustedProxies lb = TrustedProxies.of("10.0.0.0/8", "2001:db8::/32");
 * OffloadExecutor.builder(router).trustedProxies(lb)...
 * }</pre>
 *
 * <p>Immutable, thread-safe.
 */
public final class TrustedProxies {
  private static final TrustedProxies NONE = new TrustedProxies(List.of());

  private final List<byte[][]> blocks; // {network, mask}

  private TrustedProxies(List<byte[][]> blocks) {
    this.blocks = blocks;
  }

  /**
   * Trusts no one: every client-supplied forwarding header is dropped.
   *
   * @return the empty set of trusted proxies
   */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Parses CIDR blocks such as {@code 10.0.0.0/8}, {@code 2001:db8::/32} or a single address.
   *
   * @param cidrs the cidrs
   * @return the trusted proxies
   * @throws IllegalArgumentException naming the setting {@code trustedProxies} and the bad value
   */
  public static TrustedProxies of(String... cidrs) {
    requireNonNull(cidrs, "cidrs");
    List<byte[][]> blocks = new ArrayList<>(cidrs.length);
    for (String cidr : cidrs) {
      requireNonNull(cidr, "cidr");
      blocks.add(parse(cidr));
    }
    return blocks.isEmpty() ? NONE : new TrustedProxies(List.copyOf(blocks));
  }

  private static byte[][] parse(String cidr) {
    String s = cidr.strip();
    int slash = s.indexOf('/');
    String ip = slash < 0 ? s : s.substring(0, slash);
    if (!InetAddresses.isInetAddress(ip)) {
      throw new IllegalArgumentException(
          "trustedProxies: not an IP address or CIDR block: '" + cidr + "'");
    }
    byte[] network = InetAddresses.forString(ip).getAddress();
    int bits = network.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        prefix = -1;
      }
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException(
            "trustedProxies: prefix length must be 0.." + bits + ", got '" + cidr + "'");
      }
    }
    byte[] mask = new byte[network.length];
    for (int i = 0; i < mask.length; i++) {
      int remaining = Math.max(0, Math.min(8, prefix - i * 8));
      mask[i] = (byte) (0xff << (8 - remaining));
      network[i] &= mask[i];
    }
    return new byte[][] {network, mask};
  }

  /**
   * Returns whether no block is configured.
   *
   * @return whether no block is configured
   */
  public boolean isEmpty() {
    return blocks.isEmpty();
  }

  /**
   * Returns whether {@code address} is inside one of the blocks.
   *
   * @param address the address
   * @return whether {@code address} is inside one of the blocks
   */
  public boolean contains(InetAddress address) {
    if (blocks.isEmpty()) {
      return false;
    }
    byte[] a = address.getAddress();
    for (byte[][] block : blocks) {
      byte[] network = block[0];
      byte[] mask = block[1];
      if (network.length != a.length) {
        continue;
      }
      boolean match = true;
      for (int i = 0; i < a.length && match; i++) {
        match = (a[i] & mask[i]) == network[i];
      }
      if (match) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the client address: the socket {@code peer}, or, when the peer is trusted, the
   * right-most address of the {@code X-Forwarded-For} chain that is not itself trusted. A hop
   * that is not an IP literal ends the walk: the trusted hop that reported it is the client.
   *
   * @param forwardedFor every {@code X-Forwarded-For} field value, in order
   * @param peer the peer
   * @return the client address: the socket {@code peer}, or, when the peer is trusted, the
   *     right-most address of the {@code X-Forwarded-For} chain that is not itself trusted
   */
  public InetAddress resolveClient(InetAddress peer, List<String> forwardedFor) {
    if (!contains(peer) || forwardedFor.isEmpty()) {
      return peer;
    }
    InetAddress client = peer;
    for (int f = forwardedFor.size() - 1; f >= 0; f--) {
      String[] hops = forwardedFor.get(f).split(",", -1);
      for (int h = hops.length - 1; h >= 0; h--) {
        InetAddress hop = parseHop(hops[h]);
        if (hop == null) {
          return client;
        }
        client = hop;
        if (!contains(hop)) {
          return hop;
        }
      }
    }
    return client;
  }

  /** Parses one hop: {@code 1.2.3.4}, {@code 1.2.3.4:80}, {@code [::1]}, {@code [::1]:80}, {@code ::1}. */
  static InetAddress parseHop(String raw) {
    String s = raw.strip();
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) {
        return null;
      }
      s = s.substring(1, close);
    } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':') && s.indexOf('.') > 0) {
      s = s.substring(0, s.indexOf(':')); // IPv4 with a port
    }
    if (!InetAddresses.isInetAddress(s)) {
      return null;
    }
    return InetAddresses.forString(s);
  }

  /**
   * Formats an address for a forwarding header: IPv6 in brackets when {@code bracketV6}.
   *
   * @param address the address
   * @param bracketV6 the bracket v6
   * @return the address as a forwarding header writes it
   */
  public static String format(InetAddress address, boolean bracketV6) {
    String s = InetAddresses.toAddrString(address);
    return address instanceof Inet4Address || !bracketV6 ? s : "[" + s + "]";
  }
}
