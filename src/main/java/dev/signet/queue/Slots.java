package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empty files in queue/ whose names are already durable, for messages accepted alone ({@link
 * Spool}): such a message is written into one, fsynced, and only then renamed to its .msg. Its 250
 * waits for that one file fsync and no directory fsync: the name its bytes are under was made
 * durable before, by the directory fsync that followed the slots' creation, and a rename within
 * queue/ leaves the file under one name or the other, which recovery both reads ({@link
 * SpoolRecovery}); the removal's directory fsync later covers the rename too. Creating a file,
 * renaming it in and fsyncing the directory took 289 us where writing into a slot and fsyncing it
 * took 156 on the disk measured (bench/RESULTS.md section 0).
 *
 * <p>Slots are made in batches on a thread of their own, one directory fsync per batch, from the
 * first lone accept on; a relay that only ever has several sessions at once has none. When none
 * is ready (the first lone message, or a batch that could not be made) a message goes the other way.
 */
final class Slots implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Slots.class);

  /** The names' start: hidden, and no queue id, so that nothing reading messages lists them. */
  static final String PREFIX = ".slot-";
  /** Fewer ready than this starts a batch. */
  private static final int LOW = 8;
  /** A batch fills up to this many. */
  private static final int BATCH = 32;

  private final Path queue;
  private final ConcurrentLinkedQueue<Path> ready = new ConcurrentLinkedQueue<>();
  private final AtomicInteger count = new AtomicInteger();
  private final AtomicBoolean filling = new AtomicBoolean();
  private final AtomicLong made = new AtomicLong();
  private final AtomicLong taken = new AtomicLong();
  private final String run = Long.toString(System.currentTimeMillis(), 36) + "-";
  private final ExecutorService maker =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("spool-slots").factory());

  Slots(Path queue) {
    this.queue = queue;
  }

  /**
   * An empty file in queue/ whose name is durable, now the caller's, or null when none is ready.
   * Starts a batch when few are left.
   */
  Path take() {
    Path slot = ready.poll();
    if (slot != null) {
      count.decrementAndGet();
      taken.incrementAndGet();
    }
    if (count.get() < LOW && filling.compareAndSet(false, true)) {
      try {
        maker.execute(this::fill);
      } catch (RejectedExecutionException e) {
        filling.set(false); // closed
      }
    }
    return slot;
  }

  /** Slots ready to be taken (for tests). */
  int ready() {
    return count.get();
  }

  /** Slots taken so far (for tests). */
  long taken() {
    return taken.get();
  }

  private void fill() {
    List<Path> batch = new ArrayList<>();
    try {
      while (count.get() + batch.size() < BATCH) {
        Path slot = queue.resolve(PREFIX + run + made.incrementAndGet());
        PrivateFiles.create(slot).close();
        batch.add(slot);
      }
      Committer.fsyncDirectory(queue);
      ready.addAll(batch);
      count.addAndGet(batch.size());
    } catch (IOException | RuntimeException e) {
      // Lone messages go the other way meanwhile; a file made here but not known durable goes.
      log.warn("spool: could not make empty files for lone messages in {}: {}", queue, e.toString());
      batch.forEach(Slots::deleteQuietly);
    } finally {
      filling.set(false);
    }
  }

  /** Stops making slots and deletes those not taken (recovery deletes any a crash leaves). */
  @Override
  public void close() {
    maker.shutdown();
    try {
      maker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Path slot; (slot = ready.poll()) != null; ) {
      deleteQuietly(slot);
    }
  }

  private static void deleteQuietly(Path slot) {
    try {
      Files.deleteIfExists(slot);
    } catch (IOException e) {
      log.warn("spool: could not delete the unused {}: {}", slot, e.toString());
    }
  }
}
