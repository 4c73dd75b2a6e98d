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
 * took 156 on the disk measured (bench/RESULTS.md section 0i).
 *
 * <p>Where a crash may leave a file's size ahead of its data ({@link SizeOrdering} does not hold), a
 * whole-looking slot could hold blocks never written, so none is trusted: the files are spares ({@link
 * #SPARE_PREFIX}), a message written into one is acknowledged only after its rename's directory fsync as
 * well (still no file created on the way to the 250; the sync thread renames it and fsyncs the directory
 * right after the file's fsync, while the signatures are computed), and recovery deletes them all.
 *
 * <p>Slots are made a few at a time, one directory fsync for each few, on the spool-sync thread
 * that fsyncs lone messages, and only after a lone message's 250 is decided ({@link #refill}): the
 * next message of a lone session is still on its way then, so its fsync neither waits for this work
 * nor shares a journal commit with it. A relay that only ever has several sessions at once has none.
 * When none is ready (the first lone message, or slots that could not be made) a message goes the
 * other way.
 */
final class Slots implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Slots.class);

  /** The names' start: hidden, and no queue id, so that nothing reading messages lists them. */
  static final String PREFIX = ".slot-";
  /**
   * The names' start where the file system does not keep a file's size behind its data ({@link
   * SizeOrdering}): a message written into such a spare is acknowledged only once its rename to the
   * .msg is durable too, so recovery deletes every spare it finds, whatever it holds.
   */
  static final String SPARE_PREFIX = ".spare-";
  /** Fewer ready than this, and {@link #refill} makes more. */
  private static final int LOW = 16;
  /** Made at once, under one directory fsync. */
  private static final int FEW = 8;

  private final Path queue;
  private final Committer committer;
  private final String prefix;
  private final ConcurrentLinkedQueue<Path> ready = new ConcurrentLinkedQueue<>();
  private final AtomicInteger count = new AtomicInteger();
  private final AtomicBoolean filling = new AtomicBoolean();
  private long made; // under fill's lock
  private final AtomicLong taken = new AtomicLong();
  private final String run = Long.toString(System.currentTimeMillis(), 36) + "-";
  private boolean closed;

  /** @param prefix {@link #PREFIX} or {@link #SPARE_PREFIX}: what a message written into one may count on */
  Slots(Path queue, Committer committer, String prefix) {
    this.queue = queue;
    this.committer = committer;
    this.prefix = prefix;
  }

  /** Whether these are spares: a message written into one waits for its rename's directory fsync. */
  boolean spares() {
    return prefix.equals(SPARE_PREFIX);
  }

  /** An empty file in queue/ whose name is durable, now the caller's, or null when none is ready. */
  Path take() {
    Path slot = ready.poll();
    if (slot != null) {
      count.decrementAndGet();
      taken.incrementAndGet();
    }
    return slot;
  }

  /** After a lone message's fsync: has a few more slots made on the spool-sync thread when few are left. */
  void refill() {
    if (count.get() < LOW && filling.compareAndSet(false, true) && !committer.later(this::fill)) {
      filling.set(false); // closed
    }
  }

  /** Slots ready to be taken (for tests). */
  int ready() {
    return count.get();
  }

  /** Slots taken so far (for tests). */
  long taken() {
    return taken.get();
  }

  /** Under the lock {@link #close} takes, so that no slot appears after it. */
  private synchronized void fill() {
    List<Path> batch = new ArrayList<>(FEW);
    try {
      if (closed) {
        return;
      }
      for (int i = 0; i < FEW; i++) {
        Path slot = queue.resolve(prefix + run + ++made);
        PrivateFiles.create(slot).close();
        batch.add(slot);
      }
      Committer.fsyncDirectory(queue);
      ready.addAll(batch);
      count.addAndGet(batch.size());
      batch.clear();
    } catch (IOException | RuntimeException e) {
      // Lone messages go the other way meanwhile.
      log.warn("spool: could not make empty files for lone messages in {}: {}", queue, e.toString());
    } finally {
      batch.forEach(Slots::deleteQuietly); // not known durable
      filling.set(false);
    }
  }

  /**
   * Waits for slots being made, deletes those not taken (recovery deletes any a crash leaves), and
   * makes no more.
   */
  @Override
  public synchronized void close() {
    closed = true;
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
