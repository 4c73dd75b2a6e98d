package dev.signet.queue;

/**
 * What the queue tells the outside world: how long each delivery attempt took, what it settled, and
 * the gauges of the queue. The relay counts them (its metrics adapt this); {@link #NONE} ignores
 * them. Implementations must be thread-safe and must not throw.
 */
public interface QueueListener {
  QueueListener NONE = new QueueListener() {};

  /** One delivery attempt (one message, one domain) took {@code nanos}, whatever became of its outcome. */
  default void attemptTook(long nanos) {}

  /**
   * The outcome of one attempt through {@code provider} (the shaping group) was recorded: recipients
   * delivered, deferred by the remote side (a hold by traffic shaping is no attempt and counts 0), failed.
   */
  default void outcomes(String provider, int delivered, int deferred, int failed) {}

  /** The queue's gauges, to be read whenever wanted (at scrape time). Called once, at construction. */
  default void gauges(QueueGauges gauges) {}
}
