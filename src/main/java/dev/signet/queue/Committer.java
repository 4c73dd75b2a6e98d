package dev.signet.queue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Makes directory changes durable. A change (rename into queue/, replace an envelope, delete) is
 * durable only once the directory holding it is fsynced; one fsync covers every change made in
 * that directory before it. With group commit, callers hand their changes to one committer thread
 * which applies every change that arrived while it was busy and then fsyncs the directory once for
 * the whole batch: N concurrent messages pay one directory fsync instead of N. The callers have
 * already fsynced their own files (concurrently, which the file system batches in its journal).
 */
final class Committer implements AutoCloseable {

  /** One directory operation: a rename or a delete. */
  @FunctionalInterface
  interface Change {
    void apply() throws IOException;
  }

  private record Request(List<Change> changes, CompletableFuture<Void> done) {}

  private static final Request STOP = new Request(List.of(), new CompletableFuture<>());

  private final Path directory;
  private final boolean group;
  private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
  private final Thread thread;
  // Fsyncs of messages written alone (syncAlone), off their writer's thread.
  private final java.util.concurrent.ExecutorService syncs =
      java.util.concurrent.Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("spool-sync").factory());
  private volatile boolean closed;
  // Counters for tests and the benchmark: how many directory fsyncs covered how many requests.
  private long batches;
  private long committed;

  Committer(Path directory, boolean group) {
    this.directory = directory;
    this.group = group;
    if (group) {
      thread = Thread.ofPlatform().daemon().name("spool-committer").start(this::run);
    } else {
      thread = null;
    }
  }

  /** Applies {@code changes} in order and returns once they are durable; throws if any failed. */
  void commit(List<Change> changes) throws IOException {
    if (!group) {
      synchronized (this) {
        batches++;
        committed++;
      }
      for (Change change : changes) {
        change.apply();
      }
      fsyncDirectory(directory);
      return;
    }
    Request request = new Request(changes, new CompletableFuture<>());
    synchronized (requests) {
      // Checked under the lock close() takes, so nothing is queued behind STOP and left waiting.
      if (closed) {
        throw new IOException("spool is closed");
      }
      requests.add(request);
    }
    try {
      request.done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the spool commit", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException(cause);
    }
  }

  /**
   * Fsyncs the directory on the caller's own thread, now, without waiting for a batch: for a lone
   * caller whose change the file system already committed with its file's fsync (see {@link Spool}),
   * so that the fsync POSIX asks for finds little to do and a batch would only add two thread handoffs
   * and the wait behind another caller's commit.
   */
  void commitHere() throws IOException {
    fsyncDirectory(directory);
    synchronized (this) {
      batches++;
      committed++;
    }
  }

  /**
   * Fsyncs {@code file}, then the directory if {@code directoryToo}, on the spool-sync thread, for a
   * lone writer that renamed its file in before, or wrote it into a slot whose name is already
   * durable (see {@link Spool}, {@link Slots}): the writer goes on meanwhile (it computes the
   * message's signatures) and then waits with {@link #await}. The directory fsync POSIX asks for
   * after a rename finds nothing left to commit; it runs there too, so the writer waits for one
   * handoff instead of two fsyncs.
   */
  java.util.concurrent.Future<?> syncAlone(FileChannel file, boolean directoryToo) {
    return onSyncThread(() -> {
      file.force(true);
      if (directoryToo) {
        commitHere();
      }
    });
  }

  /**
   * Fsyncs {@code file}, then runs {@code rename} (a spare's rename to its .msg, {@link Slots#SPARE_PREFIX})
   * and fsyncs the directory, on the spool-sync thread, while the writer fills in the message's
   * signatures; the writer then waits with {@link #await}. The rename follows the file's fsync, so the
   * .msg never names bytes that are not on the disk (but perhaps the placeholders, which recovery fills
   * in).
   */
  java.util.concurrent.Future<?> syncAlone(FileChannel file, Change rename) {
    return onSyncThread(() -> {
      file.force(true);
      rename.apply();
      commitHere();
    });
  }

  /** Runs {@code work} on the spool-sync thread; a failed future once the spool is closed. */
  private java.util.concurrent.Future<?> onSyncThread(Change work) {
    try {
      return syncs.submit(() -> {
        work.apply();
        return null;
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new IOException("spool is closed"));
    }
  }

  /** Runs {@code task} on the spool-sync thread after what is queued there; false once closed. */
  boolean later(Runnable task) {
    try {
      syncs.execute(task);
      return true;
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return false;
    }
  }

  /** Waits for a {@link #syncAlone}; its failure is rethrown. */
  static void await(java.util.concurrent.Future<?> synced) throws IOException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          synced.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true; // the fsync runs on: wait for it, the file stays open until then
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          throw cause instanceof IOException io ? io : new IOException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    List<Request> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(requests.take());
      } catch (InterruptedException e) {
        continue; // nobody interrupts this thread; close() queues STOP instead
      }
      requests.drainTo(batch);
      boolean stop = batch.remove(STOP);
      List<Request> applied = new ArrayList<>(batch.size());
      for (Request request : batch) {
        try {
          for (Change change : request.changes) {
            change.apply();
          }
          applied.add(request);
        } catch (IOException | RuntimeException e) {
          request.done.completeExceptionally(e);
        }
      }
      if (!applied.isEmpty()) {
        try {
          fsyncDirectory(directory);
          synchronized (this) {
            batches++;
            committed += applied.size();
          }
          applied.forEach(r -> r.done.complete(null));
        } catch (IOException | RuntimeException e) {
          // Nothing in this batch is known to be durable: every caller fails and rolls back.
          applied.forEach(r -> r.done.completeExceptionally(e));
        }
      }
      batch.clear();
      if (stop) {
        return;
      }
    }
  }

  /** Directory fsyncs so far, and the requests they covered. */
  synchronized long[] stats() {
    return new long[] {batches, committed};
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  @Override
  public void close() {
    syncs.shutdown(); // lets a running fsync finish; a lone accept waits for its own
    if (thread == null || closed) {
      return;
    }
    synchronized (requests) {
      closed = true;
      requests.add(STOP);
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
