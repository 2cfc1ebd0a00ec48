package dev.offload.core.replay;

import static java.util.Objects.requireNonNull;

/**
 * A log line that could not be replayed, and why.
 *
 * @param lineNumber the line, 1-based
 * @param reason what was wrong with it, naming the bad field
 */
public record MalformedLine(long lineNumber, String reason) {
  /**
   * Checks the values.
   *
   * @param lineNumber see {@link #lineNumber()}
   * @param reason see {@link #reason()}
   */
  public MalformedLine {
    requireNonNull(reason, "reason");
  }

  @Override
  public String toString() {
    return "line " + lineNumber + ": " + reason;
  }
}
