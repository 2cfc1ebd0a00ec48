package dev.offload.core;

import static java.util.Objects.requireNonNull;

/**
 * A typed key for a request attribute, such as the identity that a guard admitted.
 *
 * <pre>{@code
 * static final AttributeKey<String> USER = AttributeKey.of("user", String.class);
 * request.attribute(USER).orElse("anonymous");
 * }</pre>
 *
 * <p>Keys compare by identity: declare each once, as a constant. Thread-safe.
 *
 * @param <T> the type of the value
 */
public final class AttributeKey<T> {
  private final String name;
  private final Class<T> type;

  private AttributeKey(String name, Class<T> type) {
    this.name = name;
    this.type = type;
  }

  /**
   * Returns a new key; {@code name} is for display only.
   *
   * @param name the name
   * @param <T> the type of the value
   * @param type the type
   * @return a new key; {@code name} is for display only
   */
  public static <T> AttributeKey<T> of(String name, Class<T> type) {
    return new AttributeKey<>(requireNonNull(name, "name"), requireNonNull(type, "type"));
  }

  /**
   * Returns the display name.
   *
   * @return the display name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the value type.
   *
   * @return the value type
   */
  public Class<T> type() {
    return type;
  }

  T cast(Object value) {
    return type.cast(value);
  }

  @Override
  public String toString() {
    return name;
  }
}
