package dev.signet.queue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps a stopping relay's spool in step with the wire. Every spool write of a delivery attempt
 * passes through the gate; {@link #shut} waits for the writes under way and turns every later one
 * away, so the spool closes with no outcome half written and none written after it closed.
 *
 * <p>Before that, {@link #cutOff} marks the moment the stop starts cutting attempts off: a deferral
 * seen after it is the relay's own doing (its connection was closed), not the remote's, so it is not
 * recorded: no attempt counted, no backoff; the recipient is due at once on the next start.
 */
final class OutcomeGate {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile boolean cutOff;
  private volatile boolean shut;

  /**
   * Enters for one write; every true must be followed by {@link #exit}. Enter before taking a message
   * lock: a writer waiting in {@link #shut} holds back new entries, never the writes under way.
   *
   * @return false once shut: write nothing
   */
  boolean enter() {
    lock.readLock().lock();
    if (shut) {
      lock.readLock().unlock();
      return false;
    }
    return true;
  }

  void exit() {
    lock.readLock().unlock();
  }

  /** From now on, attempts still running are being cut off by the stop. */
  void cutOff() {
    cutOff = true;
  }

  boolean cuttingOff() {
    return cutOff;
  }

  /**
   * Turns every later write away and waits up to {@code wait} for the ones under way.
   *
   * @return true if none is under way any more
   */
  boolean shut(Duration wait) throws InterruptedException {
    shut = true;
    if (!lock.writeLock().tryLock(wait.toNanos(), TimeUnit.NANOSECONDS)) {
      return false;
    }
    lock.writeLock().unlock();
    return true;
  }
}
