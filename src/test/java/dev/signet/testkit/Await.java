package dev.signet.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The one way tests wait for something another thread does: poll a condition, bounded, failing by name. */
public final class Await {
  private Await() {}

  /** Waits until {@code condition} holds; after {@code limit} fails naming {@code what}. */
  public static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
    await(what, limit, condition, () -> "");
  }

  /**
   * As {@link #await(String, Duration, BooleanSupplier)}, adding {@code context} (a relay's log, say) to
   * the failure. A condition may itself throw an AssertionError to give up early.
   */
  public static void await(String what, Duration limit, BooleanSupplier condition, Supplier<?> context)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        String more = String.valueOf(context.get());
        throw new AssertionError("timed out after " + limit + " waiting for: " + what
            + (more.isEmpty() ? "" : "\n" + more));
      }
      Thread.sleep(20);
    }
  }
}
