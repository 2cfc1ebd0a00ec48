package dev.offload.core.internal;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The checks builders apply to a setting's value, with a message that names the setting and the
 * bad value, so every builder in offload words its refusals the same way.
 */
public final class Settings {
  private Settings() {}

  /**
   * Returns {@code value} when it is positive.
   *
   * @throws NullPointerException naming {@code setting} if {@code value} is null
   * @throws IllegalArgumentException naming {@code setting} and {@code value} otherwise
   */
  public static Duration positive(String setting, Duration value) {
    requireNonNull(value, setting);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(setting + " must be positive, got " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} when it is zero or positive.
   *
   * @throws NullPointerException naming {@code setting} if {@code value} is null
   * @throws IllegalArgumentException naming {@code setting} and {@code value} otherwise
   */
  public static Duration notNegative(String setting, Duration value) {
    requireNonNull(value, setting);
    if (value.isNegative()) {
      throw new IllegalArgumentException(setting + " must not be negative, got " + value);
    }
    return value;
  }

  /**
   * Returns {@code value} when it is not blank.
   *
   * @throws NullPointerException naming {@code setting} if {@code value} is null
   * @throws IllegalArgumentException naming {@code setting} if it is blank
   */
  public static String notBlank(String setting, String value) {
    requireNonNull(value, setting);
    if (value.isBlank()) {
      throw new IllegalArgumentException(setting + " must not be blank");
    }
    return value;
  }
}
