package dev.offload.bench.overload;

import java.util.Locale;

/**
 * The figures of one arm at one offered load. Times are milliseconds from the intended send
 * time; {@code NaN} when there was nothing to measure.
 *
 * @param arm the arm's name
 * @param multiple the offered load as a multiple of the primary's capacity C
 * @param offered the offered load, requests per second
 * @param sent counted requests sent
 * @param goodput successful (200) answers per second over the measured span
 * @param okP99 p99 answer time of the successes
 * @param okP50 median answer time of the successes
 * @param shed answers 503 (shed by the gateway or refused by a full backend)
 * @param shedP99 p99 answer time of the 503 answers
 * @param otherStatus answers with another status
 * @param timeouts requests with no answer within the client's timeout
 * @param ioErrors requests that failed without an answer
 * @param lost requests still unanswered when the run stopped waiting
 * @param lagP99 p99 of how late the generator made the send call: the generator keeps up while
 *     this stays small
 * @param lagMax the latest send call
 */
public record RunResult(String arm, double multiple, double offered, long sent, double goodput,
    double okP99, double okP50, long shed, double shedP99, long otherStatus, long timeouts,
    long ioErrors, long lost, double lagP99, double lagMax) {

  /** Returns every request that did not succeed and was not a 503. */
  public long errors() {
    return otherStatus + timeouts + ioErrors + lost;
  }

  /** Returns the table's header, in Markdown. */
  public static String header() {
    return "| arm | load | offered/s | goodput/s | p50 ok ms | p99 ok ms | 503s | p99 503 ms "
        + "| errors | send lag p99 ms |\n|---|---|---|---|---|---|---|---|---|---|";
  }

  /** Returns this result as a row of {@link #header()}. */
  public String row() {
    return String.format(Locale.ROOT, "| %s | %.1fx | %.0f | %.0f | %s | %s | %d | %s | %d | %s |",
        arm, multiple, offered, goodput, ms(okP50), ms(okP99), shed, ms(shedP99), errors(),
        ms(lagP99));
  }

  static String ms(double millis) {
    if (Double.isNaN(millis)) {
      return "-";
    }
    return millis < 10 ? String.format(Locale.ROOT, "%.2f", millis)
        : String.format(Locale.ROOT, "%.0f", millis);
  }
}
