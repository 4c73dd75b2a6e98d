package dev.signet.queue;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per message id (striped: ids hash onto a fixed set of locks), so that the outcomes of
 * several domains of one message, a queue command and the bounce are applied to its envelope one
 * after the other, each to the latest version. ReentrantLock rather than synchronized: virtual
 * threads hold it across file I/O.
 */
final class MessageLocks {
  private final ReentrantLock[] stripes = new ReentrantLock[64];

  MessageLocks() {
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /** A held lock; close() releases it. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  Held lock(String id) throws InterruptedException {
    ReentrantLock lock = stripes[Math.floorMod(id.hashCode(), stripes.length)];
    lock.lockInterruptibly();
    return lock::unlock;
  }
}
