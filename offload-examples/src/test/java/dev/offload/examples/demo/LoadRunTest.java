package dev.offload.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.offload.examples.Demo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** One short {@code --load} run, in-process on free ports: its figures must add up. */
class LoadRunTest {

  @Test
  void aShortLoadRunAccountsForEveryRequestAndComparesWithOffloadingOff() throws Exception {
    LoadRun.Plan plan = new LoadRun.Plan(Duration.ofSeconds(3), 20);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Demo.LoadResult result = Demo.runLoad(DemoGateway.Options.defaults()
            .withPorts(DemoGateway.Ports.ephemeral()).withOrders(2, Duration.ofMillis(5)),
        plan, new PrintStream(bytes, true, StandardCharsets.UTF_8), false);

    LoadRun.Snapshot on = result.on();
    LoadRun.Snapshot off = result.off();
    // the plan: 1 s at 20/s, 1 s at 60/s, 1 s at 20/s
    assertThat(plan.requests()).isEqualTo(100);
    for (LoadRun.Snapshot run : new LoadRun.Snapshot[] {on, off}) {
      assertThat(run.done()).isTrue();
      assertThat(run.sent()).isEqualTo(plan.requests());
      assertThat(run.failed()).isZero();
      assertThat(run.answered()).isEqualTo(run.sent());
      assertThat(run.statuses().values().stream().mapToLong(Long::longValue).sum())
          .isEqualTo(run.answered());
      assertThat(run.decided()).as("one decision per request").isEqualTo(run.sent());
      // a request resent on a dead pooled connection can reach a backend twice
      assertThat(run.orders().received() + run.replica().received())
          .isBetween(run.decisions("forward"), run.decisions("forward") + run.retries());
    }
    // with offloading: every kind of decision of the mix shows up, and guards answer rejects
    assertThat(on.decisions()).containsOnlyKeys(LoadView.KINDS);
    assertThat(on.decisions("reject"))
        .isEqualTo(on.status(401) + on.status(403) + on.status(429));
    assertThat(on.status(401)).isEqualTo(5); // the mix's slot 10 of 20: 100 requests, 5 rounds
    assertThat(on.status(403)).isEqualTo(5);
    assertThat(on.decisions("offload")).isEqualTo(on.status(202)).isEqualTo(5);
    assertThat(on.tasksQueued()).isEqualTo(5);
    assertThat(on.decisions("redirect")).isEqualTo(on.status(302)).isEqualTo(15);
    assertThat(on.cache().get("hit")).isEqualTo(on.decisions("serve_cached"));
    assertThat(on.offloadRatio())
        .isEqualTo((on.sent() - on.orders().received()) / (double) on.sent());
    assertThat(on.orders().received()).isLessThan(on.sent());
    // offloading off: everything went to orders
    assertThat(off.decisions()).containsOnlyKeys("forward");
    assertThat(off.orders().received()).isEqualTo(off.sent());
    assertThat(off.offloadRatio()).isZero();

    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out)
        .contains("ready: http://127.0.0.1:")
        .contains("offload ratio")
        .contains("total decisions                   100  (one per request sent)")
        .contains("orders peak in flight: " + on.orders().peakInFlight() + " with offloading, "
            + off.orders().peakInFlight() + " without")
        .doesNotContain("\033");
  }
}
