package dev.offload.core;

import static java.util.Objects.requireNonNull;

import dev.offload.core.internal.HttpSyntax;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable list of HTTP header fields: names compare case-insensitively, a name may repeat,
 * and the order of the fields is kept.
 *
 * <pre>{@code
 * Headers headers = Headers.builder().add("Accept", "text/css").add("Accept", "text/*").build();
 * headers.first("accept");        // Optional[text/css]
 * headers.all("ACCEPT");          // [text/css, text/*]
 * }</pre>
 *
 * <p>Names are validated as RFC 9110 tokens and values must not hold CR, LF or NUL, so a value
 * taken from here can be written into another message without header injection. Thread-safe.
 */
public final class Headers {
  private static final Headers EMPTY = new Headers(new String[0], new String[0], new String[0]);

  /** Lower-cased names, used for lookups. */
  private final String[] keys;
  /** Names as given, for display and forwarding. */
  private final String[] names;
  private final String[] values;

  private Headers(String[] keys, String[] names, String[] values) {
    this.keys = keys;
    this.names = names;
    this.values = values;
  }

  /**
   * Returns the empty header list.
   *
   * @return the empty header list
   */
  public static Headers empty() {
    return EMPTY;
  }

  /**
   * Returns a new builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns headers with the given name/value pairs: {@code Headers.of("Accept", "text/css")}.
   *
   * @param namesAndValues the names and values
   * @return headers with the given name/value pairs: {@code Headers.of("Accept", "text/css")}
   */
  public static Headers of(String... namesAndValues) {
    requireNonNull(namesAndValues, "namesAndValues");
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "namesAndValues must hold pairs, got " + namesAndValues.length + " strings");
    }
    Builder builder = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      builder.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return builder.build();
  }

  /**
   * Returns the number of fields (a repeated name counts once per field).
   *
   * @return the number of fields (a repeated name counts once per field)
   */
  public int size() {
    return keys.length;
  }

  /**
   * Returns the name of field {@code index} as it was given.
   *
   * @param index the index
   * @return the name of field {@code index} as it was given
   */
  public String name(int index) {
    return names[index];
  }

  /**
   * Returns the value of field {@code index}.
   *
   * @param index the index
   * @return the value of field {@code index}
   */
  public String value(int index) {
    return values[index];
  }

  /**
   * Returns the first value of the named field, if present.
   *
   * @param name the name
   * @return the first value of the named field, if present
   */
  public Optional<String> first(String name) {
    return Optional.ofNullable(firstOrNull(name));
  }

  /**
   * Returns whether a field with this name is present.
   *
   * @param name the name
   * @return whether a field with this name is present
   */
  public boolean contains(String name) {
    return indexOf(requireNonNull(name, "name"), 0) >= 0;
  }

  /**
   * Returns how many fields have this name (case-insensitive), without allocating. A credential
   * must be in exactly one field, so that what a guard checked is what is forwarded: see {@link
   * dev.offload.core.CredentialHeader}.
   *
   * @param name the name
   * @return how many fields have this name (case-insensitive), without allocating
   */
  public int count(String name) {
    requireNonNull(name, "name");
    int count = 0;
    for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
      count++;
    }
    return count;
  }

  /**
   * Returns every value of the named field, in order; empty when absent.
   *
   * @param name the name
   * @return every value of the named field, in order; empty when absent
   */
  public List<String> all(String name) {
    requireNonNull(name, "name");
    List<String> result = null;
    for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
      if (result == null) {
        result = new ArrayList<>(2);
      }
      result.add(values[i]);
    }
    return result == null ? List.of() : Collections.unmodifiableList(result);
  }

  /**
   * Returns the distinct names, lower-cased, in first-seen order.
   *
   * @return the distinct names, lower-cased, in first-seen order
   */
  public Set<String> names() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(keys)));
  }

  /**
   * Returns the fields as a map from lower-cased name to values.
   *
   * @return the fields as a map from lower-cased name to values
   */
  public Map<String, List<String>> toMap() {
    Map<String, List<String>> map = new LinkedHashMap<>();
    for (int i = 0; i < keys.length; i++) {
      map.computeIfAbsent(keys[i], k -> new ArrayList<>(1)).add(values[i]);
    }
    map.replaceAll((k, v) -> List.copyOf(v));
    return Collections.unmodifiableMap(map);
  }

  /**
   * Returns a builder that starts with these fields.
   *
   * @return a builder that starts with these fields
   */
  public Builder toBuilder() {
    Builder builder = new Builder();
    for (int i = 0; i < keys.length; i++) {
      builder.addValidated(keys[i], names[i], values[i]);
    }
    return builder;
  }

  /**
   * Returns these fields followed by {@code more}'s: a repeated name keeps every value.
   *
   * @param more the fields to append
   * @return these fields followed by {@code more}'s: a repeated name keeps every value
   */
  public Headers plus(Headers more) {
    requireNonNull(more, "more");
    if (more.size() == 0) {
      return this;
    }
    if (size() == 0) {
      return more;
    }
    Builder merged = toBuilder();
    for (int i = 0; i < more.size(); i++) {
      merged.add(more.name(i), more.value(i));
    }
    return merged.build();
  }

  /**
   * Returns these fields with every name that {@code overrides} has replaced by its values there
   * (all of them, in order): what an executor uses so that fields the decision adds win over a
   * backend's or a host's of the same name.
   *
   * @param overrides the overrides
   * @return these fields with every name that {@code overrides} has replaced by its values there
   *     (all of them, in order): what an executor uses so that fields the decision adds win over a
   *     backend's or a host's of the same name
   */
  public Headers overriddenBy(Headers overrides) {
    requireNonNull(overrides, "overrides");
    if (overrides.size() == 0) {
      return this;
    }
    Builder merged = toBuilder();
    for (int i = 0; i < overrides.size(); i++) {
      merged.remove(overrides.name(i));
    }
    for (int i = 0; i < overrides.size(); i++) {
      merged.add(overrides.name(i), overrides.value(i));
    }
    return merged.build();
  }

  /** Without allocation; {@code lowerName} must already be lower-case. */
  String firstLowerCase(String lowerName) {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i].equals(lowerName)) {
        return values[i];
      }
    }
    return null;
  }

  /** Counts the fields with this lower-case name. */
  int countLowerCase(String lowerName) {
    int count = 0;
    for (String key : keys) {
      if (key.equals(lowerName)) {
        count++;
      }
    }
    return count;
  }

  private String firstOrNull(String name) {
    int i = indexOf(requireNonNull(name, "name"), 0);
    return i < 0 ? null : values[i];
  }

  /**
   * Returns the index of the first field at or after {@code from} whose key equals {@code
   * lowerCase(name)}, or -1. Guards and matchers look names up on every request, often spelled
   * with capitals ({@code X-Api-Key}): an ASCII name is compared in place, without lower-casing
   * it into a new string. Keys are tokens, so ASCII, lower-case.
   */
  private int indexOf(String name, int from) {
    int length = name.length();
    for (int c = 0; c < length; c++) {
      if (name.charAt(c) >= 0x80) {
        String key = lowerCase(name); // rare: keep exactly what lowerCase does to non-ASCII
        for (int i = from; i < keys.length; i++) {
          if (keys[i].equals(key)) {
            return i;
          }
        }
        return -1;
      }
    }
    for (int i = from; i < keys.length; i++) {
      if (keys[i].length() == length && equalsAsciiLowerCase(keys[i], name)) {
        return i;
      }
    }
    return -1;
  }

  /** Whether lower-case {@code key} equals ASCII {@code name} with A-Z lower-cased. */
  private static boolean equalsAsciiLowerCase(String key, String name) {
    for (int c = 0; c < key.length(); c++) {
      char n = name.charAt(c);
      if (n >= 'A' && n <= 'Z') {
        n = (char) (n + ('a' - 'A'));
      }
      if (key.charAt(c) != n) {
        return false;
      }
    }
    return true;
  }

  static String lowerCase(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return name.toLowerCase(Locale.ROOT);
      }
    }
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Headers other
        && Arrays.equals(keys, other.keys)
        && Arrays.equals(values, other.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(keys) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < keys.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(names[i]).append(": ").append(values[i]);
    }
    return sb.append('}').toString();
  }

  /** Builds {@link Headers}. Not thread-safe. */
  public static final class Builder {
    private final List<String> keys = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<String> values = new ArrayList<>();

    private Builder() {}

    /**
     * Adds a field.
     *
     * @param name the name
     * @param value the value
     * @return this builder
     * @throws IllegalArgumentException if the name is not an RFC 9110 token or the value holds
     * CR, LF or NUL
     */
    public Builder add(String name, String value) {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      if (!HttpSyntax.isToken(name)) {
        throw new IllegalArgumentException("header name is not a token: '" + name + "'");
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == '\r' || c == '\n' || c == 0) {
          throw new IllegalArgumentException(
              "header " + name + " has CR, LF or NUL in its value at index " + i);
        }
      }
      return addValidated(lowerCase(name), name, value.strip());
    }

    /**
     * Removes every field with this name, then adds one.
     *
     * @param name the name
     * @param value the value
     * @return this builder
     */
    public Builder set(String name, String value) {
      remove(name);
      return add(name, value);
    }

    /**
     * Removes every field with this name.
     *
     * @param name the name
     * @return this builder
     */
    public Builder remove(String name) {
      String key = lowerCase(requireNonNull(name, "name"));
      for (int i = keys.size() - 1; i >= 0; i--) {
        if (keys.get(i).equals(key)) {
          keys.remove(i);
          names.remove(i);
          values.remove(i);
        }
      }
      return this;
    }

    /** Appends every field of {@code headers}, which were checked when they were built. */
    Builder addAll(Headers headers) {
      for (int i = 0; i < headers.keys.length; i++) {
        addValidated(headers.keys[i], headers.names[i], headers.values[i]);
      }
      return this;
    }

    Builder addValidated(String key, String name, String value) {
      keys.add(key);
      names.add(name);
      values.add(value);
      return this;
    }

    /**
     * Returns the headers.
     *
     * @return the headers
     */
    public Headers build() {
      if (keys.isEmpty()) {
        return EMPTY;
      }
      return new Headers(
          keys.toArray(new String[0]), names.toArray(new String[0]), values.toArray(new String[0]));
    }
  }
}
