package dev.offload.core;

import static java.util.Objects.requireNonNull;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The resource a {@link Decision} holds (an in-flight slot on a backend, a place in a queue),
 * released by completing the handle <b>exactly once</b>: {@link #onSuccess()},
 * {@link #onFailure()} or {@link #onDropped()}. The executor of the decision does it whatever
 * happens, also when the host's handler throws.
 *
 * <pre>{@code
 * if (decision instanceof Decision.Forward forward) {
 *   try {
 *     relay(forward);
 *     forward.handle().onSuccess();
 *   } catch (IOException e) {
 *     forward.handle().onFailure();
 *     throw e;
 *   }
 * }
 * }</pre>
 *
 * <p>Completing a handle a second time throws {@link IllegalStateException}: it means the
 * resource would be released twice, which would corrupt the load figures the router decides by.
 * Thread-safe.
 */
public final class DecisionHandle {
  /** Told once, on the thread that completes the handle. Must not throw. */
  @FunctionalInterface
  public interface Listener {
    /** Called once when the handle completes. */
    void onComplete(Outcome outcome);
  }

  private static final Listener IGNORE = outcome -> {};
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(DecisionHandle.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Listener listener;
  /** 0 while open, else the ordinal of the outcome plus one. */
  @SuppressWarnings("unused") // written through STATE
  private volatile int state;

  private DecisionHandle(Listener listener) {
    this.listener = listener;
  }

  /** Returns a new open handle that tells {@code listener} when it completes. */
  public static DecisionHandle create(Listener listener) {
    return new DecisionHandle(requireNonNull(listener, "listener"));
  }

  /** Returns a new open handle that holds nothing but still checks the exactly-once contract. */
  public static DecisionHandle create() {
    return new DecisionHandle(IGNORE);
  }

  /** Completes the handle: the work succeeded. */
  public void onSuccess() {
    complete(Outcome.SUCCESS);
  }

  /** Completes the handle: the work failed. */
  public void onFailure() {
    complete(Outcome.FAILURE);
  }

  /** Completes the handle: the work was abandoned. */
  public void onDropped() {
    complete(Outcome.DROPPED);
  }

  /**
   * Completes the handle with {@code outcome}.
   *
   * @throws IllegalStateException if the handle was already completed
   */
  public void complete(Outcome outcome) {
    requireNonNull(outcome, "outcome");
    if (!STATE.compareAndSet(this, 0, outcome.ordinal() + 1)) {
      throw new IllegalStateException(
          "decision handle already completed with "
              + Outcome.values()[(int) STATE.getVolatile(this) - 1]
              + ", cannot complete it again with "
              + outcome
              + ": complete a handle exactly once");
    }
    listener.onComplete(outcome);
  }

  /** Returns whether the handle was completed. */
  public boolean isCompleted() {
    return (int) STATE.getVolatile(this) != 0;
  }

  /** Returns the outcome, once completed. */
  public Optional<Outcome> outcome() {
    int s = (int) STATE.getVolatile(this);
    return s == 0 ? Optional.empty() : Optional.of(Outcome.values()[s - 1]);
  }

  @Override
  public String toString() {
    return "DecisionHandle(" + outcome().map(Outcome::name).orElse("open") + ")";
  }
}
