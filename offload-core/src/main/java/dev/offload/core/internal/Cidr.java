package dev.offload.core.internal;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code 2001:db8::/32}; a bare
 * address is a /32 or /128), matched against a client address. Parsed without DNS.
 *
 * <p>IPv4-mapped IPv6 ({@code ::ffff:10.0.0.1}) is the IPv4 address it maps, on both sides: the
 * rule {@code ::ffff:10.0.0.0/104} is {@code 10.0.0.0/8}, and it matches a client seen as either
 * form. A network with bits set after the prefix ({@code 10.0.0.1/8}) is refused: it is almost
 * always a typo for a narrower rule. Immutable and thread-safe.
 */
public final class Cidr {
  private final byte[] network;
  private final int prefix;
  private final String text;

  private Cidr(byte[] network, int prefix, String text) {
    this.network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /**
   * Parses {@code cidr}.
   *
   * @throws IllegalArgumentException if it is not an IP literal with an optional prefix length
   *     within the family's bits, or has bits set after the prefix
   */
  public static Cidr parse(String cidr) {
    requireNonNull(cidr, "cidr");
    String s = cidr.strip();
    int slash = s.indexOf('/');
    String address = slash < 0 ? s : s.substring(0, slash);
    if (address.indexOf('%') >= 0 || !InetAddresses.isInetAddress(address)) {
      throw new IllegalArgumentException("not an IP network: '" + cidr + "'");
    }
    InetAddress parsed = InetAddresses.forString(address);
    boolean mapped = parsed instanceof Inet4Address && address.indexOf(':') >= 0;
    byte[] bytes = parsed.getAddress();
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String length = s.substring(slash + 1);
      if (length.isEmpty() || length.length() > 3 || !length.chars().allMatch(Cidr::isDigit)) {
        throw new IllegalArgumentException("bad prefix length in '" + cidr + "'");
      }
      prefix = Integer.parseInt(length);
      if (mapped) {
        if (prefix < 96 || prefix > 128) {
          throw new IllegalArgumentException(
              "an IPv4-mapped network needs a prefix length in 96..128: '" + cidr + "'");
        }
        prefix -= 96;
      } else if (prefix > bits) {
        throw new IllegalArgumentException(
            "prefix length " + prefix + " exceeds " + bits + " bits: '" + cidr + "'");
      }
    }
    for (int bit = prefix; bit < bits; bit++) {
      if ((bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
        throw new IllegalArgumentException("'" + cidr + "' has bits set after the prefix length;"
            + " write the network address, e.g. " + (mapped ? "::ffff:" : "")
            + InetAddresses.toAddrString(masked(bytes, prefix)) + "/"
            + (mapped ? prefix + 96 : prefix));
      }
    }
    return new Cidr(bytes, prefix, cidr.strip());
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  private static InetAddress masked(byte[] bytes, int prefix) {
    byte[] copy = bytes.clone();
    for (int bit = prefix; bit < copy.length * 8; bit++) {
      copy[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    try {
      return InetAddress.getByAddress(copy);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** Returns whether {@code address} is in this network; never across families. */
  public boolean contains(InetAddress address) {
    requireNonNull(address, "address");
    byte[] bytes = address.getAddress();
    if (address instanceof Inet6Address && isMappedIpv4(bytes)) {
      bytes = java.util.Arrays.copyOfRange(bytes, 12, 16);
    }
    if (bytes.length != network.length) {
      return false;
    }
    int whole = prefix / 8;
    for (int i = 0; i < whole; i++) {
      if (bytes[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (bytes[whole] & mask) == (network[whole] & mask);
  }

  private static boolean isMappedIpv4(byte[] b) {
    if (b.length != 16 || b[10] != (byte) 0xff || b[11] != (byte) 0xff) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Returns the network as it was written. */
  @Override
  public String toString() {
    return text;
  }
}
