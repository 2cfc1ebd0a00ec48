package dev.offload.core.guard;

import com.google.common.base.Ticker;
import dev.offload.core.DecisionContext;
import java.util.LinkedHashMap;
import java.util.Map;

/** A context for calling a guard directly: the given ticker, deciding or explaining. */
final class TestContext implements DecisionContext {
  final Ticker ticker;
  final boolean explaining;
  final Map<String, Object> notes = new LinkedHashMap<>();

  TestContext(Ticker ticker, boolean explaining) {
    this.ticker = ticker;
    this.explaining = explaining;
  }

  static TestContext deciding(Ticker ticker) {
    return new TestContext(ticker, false);
  }

  static TestContext explaining(Ticker ticker) {
    return new TestContext(ticker, true);
  }

  @Override
  public String name() {
    return "test";
  }

  @Override
  public long nanoTime() {
    return ticker.read();
  }

  @Override
  public Ticker ticker() {
    return ticker;
  }

  @Override
  public void note(String input, Object value) {
    if (explaining) {
      notes.put(input, value);
    }
  }

  @Override
  public boolean explaining() {
    return explaining;
  }
}
