package dev.signet.queue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded concurrency for delivery attempts: at most {@code total} at once ({@code delivery.concurrency}),
 * at most {@code perDomain} towards one destination domain ({@code delivery.per-domain}). Each attempt
 * runs on a virtual thread. A job for a domain that is already at its limit waits in that domain's
 * lane and is run by the next thread of that lane to finish, so a busy domain never holds a global
 * slot while it waits and never starves the others.
 */
final class Lanes {
  private static final Logger log = LoggerFactory.getLogger(Lanes.class);

  private static final class Lane {
    int running;
    final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  }

  private final Semaphore global;
  private final int perDomain;
  private final Map<String, Lane> lanes = new HashMap<>();
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  Lanes(int total, int perDomain) {
    this.global = new Semaphore(total);
    this.perDomain = perDomain;
  }

  /**
   * Runs {@code job} in {@code domain}'s lane; blocks while all {@code total} slots are busy.
   *
   * @return false if the lanes were closed (the job will not run)
   */
  boolean submit(String domain, Runnable job) throws InterruptedException {
    global.acquire();
    synchronized (this) {
      if (closed) {
        global.release();
        return false;
      }
      Lane lane = lanes.computeIfAbsent(domain, d -> new Lane());
      if (lane.running >= perDomain) {
        lane.waiting.add(job);
        global.release();
        return true;
      }
      lane.running++;
      // Registered under the lock, so close() sees every worker that will ever run.
      Thread worker = Thread.ofVirtual().name("signet-delivery").unstarted(() -> work(domain, job));
      workers.add(worker);
      worker.start();
    }
    return true;
  }

  private void work(String domain, Runnable first) {
    try {
      for (Runnable job = first; job != null; job = next(domain)) {
        try {
          job.run();
        } catch (RuntimeException | Error e) {
          log.error("delivery job for {} failed", domain, e);
        }
      }
    } finally {
      global.release();
      workers.remove(Thread.currentThread());
    }
  }

  private synchronized Runnable next(String domain) {
    Lane lane = lanes.get(domain);
    Runnable job = closed ? null : lane.waiting.poll();
    if (job == null) {
      lane.running--;
      if (lane.running == 0) {
        lanes.remove(domain);
      }
    }
    return job;
  }

  /** Jobs running now (for tests and stop). */
  int active() {
    return workers.size();
  }

  /** No new job starts from now on; waiting ones are dropped (their recipients stay pending in the spool). */
  synchronized void close() {
    closed = true;
  }

  /**
   * Waits up to {@code timeout} for the running jobs to end.
   *
   * @return true if none is running any more
   */
  boolean await(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread worker : Set.copyOf(workers)) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !worker.join(Duration.ofNanos(left))) {
        return false;
      }
    }
    return workers.isEmpty();
  }
}
