package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import dev.signet.delivery.MessageSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable queue of accepted messages (docs/ARCHITECTURE.md, "The spool directory"). Layout under the spool directory:
 * <pre>
 * tmp/      messages being received and envelopes being rewritten; emptied at every start
 * queue/    &lt;id&gt;.msg: the {@link Envelope} as accepted, then the signed message;
 *           &lt;id&gt;.env: the envelope, once it changed after acceptance (it then replaces the
 *           one in the .msg); a message exists while its .msg is there;
 *           .slot-* (or .spare-*): empty files for messages accepted alone ({@link Slots})
 * corrupt/  files recovery could not make sense of, kept for a human (never deleted silently)
 * lock      held by the process that owns the spool
 * </pre>
 * {@link #accept} returns only after the .msg is in queue/ and both it and queue/ are fsynced: one
 * file and one file fsync per message, so a crash at any instant loses no acknowledged message. A
 * message accepted while one client session is open and no other message is being written, on a file
 * system that keeps a file's size behind its data ({@link SizeOrdering}), is renamed in before its
 * fsync, so that one journal commit covers the file and its name, and its signatures are computed while
 * that fsync runs and written over their placeholders after it began ({@link Incoming#writeAlone}); a
 * crash before that fsync can then leave a .msg cut short in queue/, never acknowledged, which recovery
 * deletes, and one after it a .msg whose placeholders are still on disk, which {@link #finish} mends.
 * When a slot is ready ({@link Slots}: an empty file in queue/ whose name is already durable), such a
 * message is written into it instead, fsynced, and renamed to its .msg after the fsync, with no
 * directory fsync before its 250; recovery renames a whole slot it finds to its .msg and deletes one cut
 * short. Where {@link SizeOrdering} does not hold, a lone message goes only into a spare (a slot named
 * .spare-*), and its 250 waits for the rename's directory fsync too; recovery deletes every spare. Otherwise
 * the .msg is fsynced in tmp/ first and the committer renames it in (concurrent messages share those
 * commits).
 * The envelope records the message's size, so the message bytes are the last {@code size} bytes of
 * the .msg. {@link #remove} deletes the .msg first and then any .env, so an .env alone is the remnant
 * of an interrupted removal. {@link #open} takes the lock and runs {@link SpoolRecovery} before
 * anything else; reading goes through a {@link SpoolView}, which
 * {@code signet queue} also uses without the lock. Mail is private: every file and directory here is
 * made through {@link PrivateFiles} (0600, 0700), and opening the spool makes an older version's open
 * directories 0700. Thread-safe.
 */
public final class Spool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Spool.class);

  /** {@link #open} found the lock held: a relay is running on this spool. */
  public static final class InUse extends IOException {
    InUse(String message) {
      super(message);
    }
  }

  private final Path tmp;
  private final Path queue;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final QueueId ids;
  private final SpoolView view;
  private final Committer committer;
  private final Slots slots;
  private final SizeOrdering ordering;
  private final SpoolRecovery.Result recovery;
  private final AtomicLong rewrites = new AtomicLong();
  // Messages between their first write and the end of their fsync in accept().
  private final AtomicInteger accepting = new AtomicInteger();
  private final AtomicLong loneAccepts = new AtomicLong();
  private final java.util.Set<String> unfinished = new java.util.LinkedHashSet<>();
  private volatile IntSupplier sessions = () -> 1;
  private volatile Consumer<Envelope> onAccept = envelope -> {};

  private Spool(Path dir, boolean groupCommit, Clock clock, SizeOrdering ordering) throws IOException {
    this.tmp = dir.resolve("tmp");
    this.queue = dir.resolve("queue");
    for (Path d : List.of(dir, tmp, queue, dir.resolve("corrupt"))) {
      PrivateFiles.directory(d);
    }
    this.ordering = ordering != null ? ordering : SizeOrdering.of(queue);
    this.lockChannel = PrivateFiles.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock held;
    try {
      held = lockChannel.tryLock();
    } catch (IOException e) {
      lockChannel.close();
      throw e;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      held = null; // held by this very JVM (another Spool on the same directory)
    }
    if (held == null) {
      lockChannel.close();
      throw new InUse(dir + ": spool is in use by another process (lock held)");
    }
    this.lock = held;
    this.ids = new QueueId(clock);
    this.view = new SpoolView(queue);
    try {
      this.recovery = SpoolRecovery.run(dir, this.ordering);
      this.unfinished.addAll(recovery.unfinished());
    } catch (IOException e) {
      releaseLock();
      throw e;
    }
    this.committer = new Committer(queue, groupCommit);
    this.slots = new Slots(queue, committer, this.ordering.holds() ? Slots.PREFIX : Slots.SPARE_PREFIX);
  }

  /** Opens (creating if needed) and recovers the spool at {@code dir}, with group commit. */
  public static Spool open(Path dir) throws IOException {
    return new Spool(dir, true, Clock.systemUTC(), null);
  }

  /** {@code groupCommit=false}: every accept fsyncs the directory itself (for measurement). */
  static Spool open(Path dir, boolean groupCommit) throws IOException {
    return new Spool(dir, groupCommit, Clock.systemUTC(), null);
  }

  /** For tests: with a given answer to {@link SizeOrdering} instead of the file system's. */
  static Spool open(Path dir, SizeOrdering ordering) throws IOException {
    return new Spool(dir, true, Clock.systemUTC(), ordering);
  }

  /** The spool's directory. */
  Path dir() {
    return queue.getParent();
  }

  /**
   * True if a process holds the lock of the spool at {@code dir} (a relay runs on it); false if there
   * is no spool there or nobody holds it.
   */
  public static boolean inUse(Path dir) throws IOException {
    Path lockFile = dir.resolve("lock");
    if (!Files.exists(lockFile)) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock held = channel.tryLock();
      if (held == null) {
        return true;
      }
      held.release();
      return false;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return true; // held by this very JVM
    }
  }

  /** What recovery found when this spool was opened. */
  SpoolRecovery.Result recovery() {
    return recovery;
  }

  /** Starts receiving a message; its id is fixed now (it goes into the Received field). */
  public Incoming receive() throws IOException {
    return new Incoming(ids.next(), tmp);
  }

  /**
   * Puts a received message into the queue, durably. On return the message survives a crash; on
   * an exception it is not in the queue (and the caller must not acknowledge it).
   *
   * @param envelope the envelope to store; its id is {@code message.id()}
   */
  public void accept(Incoming message, Envelope envelope) throws IOException {
    accept(message, envelope, e -> {});
  }

  /**
   * As {@link #accept(Incoming, Envelope)}; {@code durable} gets the envelope once the message is on
   * disk and before the scheduler can see it (so what it records, the accepted events, comes before
   * anything the delivery records). It must be quick and not throw: it runs before the client's 250.
   */
  public void accept(Incoming message, Envelope envelope, Consumer<Envelope> durable) throws IOException {
    acceptThenHandOn(message, envelope, durable).run();
  }

  /**
   * As {@link #accept(Incoming, Envelope, Consumer)}, except that the message reaches the scheduler only
   * when the returned hand-over runs. The submission server sends its 250 first, so the client does not
   * wait for the scheduler's wake-up, nor share the CPU with the delivery it starts. The caller must
   * run it, also when the reply cannot be sent (in a {@code finally}): until then the message is safe
   * on disk but waits for the next start.
   */
  public Runnable acceptThenHandOn(Incoming message, Envelope envelope, Consumer<Envelope> durable)
      throws IOException {
    if (!message.complete()) {
      throw new IllegalStateException("message " + message.id() + " has no header block yet");
    }
    if (!envelope.id().equals(message.id())) {
      throw new IllegalArgumentException("envelope id " + envelope.id() + " is not message id " + message.id());
    }
    if (envelope.size() != message.size()) {
      throw new IllegalArgumentException("envelope size " + envelope.size() + " is not the message's " + message.size());
    }
    String id = message.id();
    Path msg = queue.resolve(id + ".msg");
    try {
      // RFC 5321 §6.1: once the 250 is sent the message is ours; it must be on disk first.
      if (sessions.getAsInt() > 1 || !writeAlone(message, envelope, msg)) {
        // Fsynced in tmp/, where concurrent fsyncs share journal commits; the committer renames the
        // batch in under one more.
        message.write(EnvelopeFormat.format(envelope), null);
        committer.commit(List.of(() -> Files.move(message.messageFile(), msg, StandardCopyOption.ATOMIC_MOVE)));
      }
      message.markAccepted();
    } catch (IOException | RuntimeException e) {
      // Not acknowledged: take it out of the queue again, durably (a lone message was fsynced there).
      if (deleteQuietly(msg, e)) {
        try {
          committer.commitHere();
        } catch (IOException f) {
          e.addSuppressed(f);
        }
      }
      throw e;
    }
    try {
      durable.accept(envelope);
    } catch (RuntimeException e) {
      log.error("spool: accepted {} but could not record it: {}", id, e.toString());
    }
    return () -> {
      try {
        onAccept.accept(envelope);
      } catch (RuntimeException e) {
        // The message is safe on disk; it is scheduled at the next start at the latest.
        log.error("spool: accepted {} but could not hand it on: {}", id, e.toString());
      }
    };
  }

  /**
   * If no other message is being written or fsynced: writes {@code message} into a slot when one is
   * ready, fsyncs it on the committer's sync thread while this one fills in its signatures, and renames
   * it to {@code msg}; without a slot, renames it in before its fsync, so that one journal commit covers
   * the file and its name, and fsyncs it and the directory (as POSIX asks) there. Where {@link
   * SizeOrdering} does not hold, only into a spare ({@link Slots#SPARE_PREFIX}), and the rename's
   * directory fsync follows before it returns. True; otherwise false, with nothing written. Afterwards
   * has more slots made when few are left.
   */
  private boolean writeAlone(Incoming message, Envelope envelope, Path msg) throws IOException {
    if (accepting.getAndIncrement() != 0) {
      accepting.decrementAndGet();
      return false;
    }
    Path slot = slots.take();
    try {
      if (slot == null && slots.spares()) {
        return false; // no spare ready: the two-commit order (the finally below has some made)
      }
      Path from = slot != null ? slot : message.messageFile();
      message.writeAlone(EnvelopeFormat.format(envelope), slot,
          () -> Files.move(from, msg, StandardCopyOption.ATOMIC_MOVE), committer, slots.spares());
    } catch (IOException | RuntimeException e) {
      // Not acknowledged: a slot it was written into goes, durably (its name was).
      if (slot != null && deleteQuietly(slot, e)) {
        try {
          committer.commitHere();
        } catch (IOException f) {
          e.addSuppressed(f);
        }
      }
      throw e;
    } finally {
      accepting.decrementAndGet();
      slots.refill(); // while this message's 250 goes out and the next one is on its way
    }
    loneAccepts.incrementAndGet();
    return true;
  }

  /**
   * How many client sessions are open now (the SMTP server's count; without one, 1). {@link #accept}
   * renames a message in before its fsync only when at most one is: a lone session waits for each
   * message's commits in turn, so there a commit fewer is a sooner 250, while with several sessions
   * fsyncs in tmp/ that share commits and the committer's batched renames measured faster
   * (bench/RESULTS.md section 0d).
   */
  public void sessions(IntSupplier open) {
    this.sessions = java.util.Objects.requireNonNull(open);
  }

  /**
   * {@code listener} gets every envelope right after {@link #accept} made it durable (the scheduler
   * takes new messages from here). It must be quick: it runs before the client gets its 250.
   */
  public void onAccept(Consumer<Envelope> listener) {
    this.onAccept = java.util.Objects.requireNonNull(listener);
  }

  /**
   * Queued messages whose header block holds placeholders (NUL) that were filled in after their
   * fsync but, a crash shows, never reached the disk (see {@link Incoming#headers(byte[], int,
   * Incoming.Filler)}), as found when the spool was opened and not yet {@link #finish finished}.
   * They must be finished before anything delivers them.
   */
  public synchronized List<String> unfinished() {
    return List.copyOf(unfinished);
  }

  /**
   * Fills in what a crash left unfilled in queued message {@code id}: {@code filler} gets its header
   * block and fills the placeholders in place; the block is written back and fsynced. If the filler
   * fails, the message (and its .env) goes to corrupt/ with the reason logged, for a human: it is
   * never delivered with placeholders, and never deleted. A failure to read or write the file is thrown
   * (the message stays unfinished in queue/).
   *
   * @return true if the message was finished, false if it went to corrupt/
   */
  public boolean finish(String id, Incoming.Filler filler) throws IOException {
    Path msg = queue.resolve(SpoolView.checkedId(id) + ".msg");
    IOException failure = null;
    try (FileChannel file = FileChannel.open(msg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long start = EnvelopeFormat.readPrefix(java.nio.channels.Channels.newInputStream(file)).length;
      byte[] block = SpoolRecovery.headerBlock(file, start);
      try {
        filler.fill(block);
        if (SpoolRecovery.indexOfNul(block) >= 0) {
          throw new IOException("placeholders left after filling in");
        }
      } catch (IOException | RuntimeException e) {
        failure = new IOException(e.getMessage(), e);
      }
      if (failure == null) {
        // A failure to write is the disk's, not the message's: it stops the start, the message stays.
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(block);
        long at = start;
        while (bytes.hasRemaining()) {
          at += file.write(bytes, at);
        }
        file.force(true);
        synchronized (this) {
          unfinished.remove(id);
        }
        log.info("spool: {}: filled in the signatures a crash kept off the disk", id);
        return true;
      }
    }
    synchronized (this) {
      unfinished.remove(id);
    }
    Path corrupt = dir().resolve("corrupt");
    for (Path file : List.of(msg, queue.resolve(id + ".env"))) {
      SpoolRecovery.moveToCorrupt(file, corrupt);
    }
    Committer.fsyncDirectory(corrupt);
    Committer.fsyncDirectory(queue);
    log.error("spool: {}: its signatures were not written before a crash and cannot be filled in ({}); moved to {}"
        + " for a human: fix the cause (e.g. restore the key) and move it back into {} while the relay is stopped",
        id, failure.getMessage(), corrupt, queue);
    return false;
  }

  /** Every queued message's envelope, oldest first. A corrupt envelope is logged and skipped. */
  public List<Envelope> list() throws IOException {
    return view.list();
  }

  /** The envelope of queued message {@code id}: its .env if it has one, else the one in its .msg. */
  public Envelope envelope(String id) throws IOException {
    return view.envelope(id);
  }

  /** Where the signed bytes of queued message {@code envelope} are: see {@link SpoolView#message}. */
  public MessageSource message(Envelope envelope) throws IOException {
    return view.message(envelope);
  }

  /** The signed message bytes of queued message {@code id}. */
  public InputStream open(String id) throws IOException {
    return view.open(id);
  }

  /** Durably replaces the envelope of a queued message (e.g. new recipient states). */
  public void update(Envelope envelope) throws IOException {
    String id = SpoolView.checkedId(envelope.id());
    Path msg = queue.resolve(id + ".msg");
    if (!Files.exists(msg)) {
      throw new NoSuchFileException(msg.toString(), null, "no such queued message");
    }
    Path env = queue.resolve(id + ".env");
    Path next = tmp.resolve(id + ".env." + rewrites.incrementAndGet());
    try {
      writeSynced(next, EnvelopeFormat.format(envelope));
      committer.commit(List.of(() -> Files.move(next, env, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING)));
    } finally {
      Files.deleteIfExists(next);
    }
  }

  /**
   * Durably removes a message whose recipients are all done. The .msg goes first: an .env left by a
   * crash in between is recognised at the next start, and the message is not brought back.
   */
  public void remove(String id) throws IOException {
    Path msg = queue.resolve(SpoolView.checkedId(id) + ".msg");
    Path env = queue.resolve(id + ".env");
    committer.commit(List.of(() -> Files.delete(msg), () -> Files.deleteIfExists(env)));
  }

  /**
   * For {@code /healthz}: can a message be received now? Creates a probe file in tmp/, where every
   * message starts, renames it into queue/, where every accepted message is renamed, and deletes it
   * there. Empty = both work, otherwise the problem. (Recovery deletes the dot file if a crash leaves it.)
   */
  public java.util.Optional<String> probe() {
    Path file = tmp.resolve(".probe-" + Thread.currentThread().threadId());
    Path moved = queue.resolve(file.getFileName());
    try {
      Files.deleteIfExists(file);
      PrivateFiles.createFile(file);
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.of("cannot write in " + tmp + ": " + e);
    }
    try {
      Files.move(file, moved, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Files.delete(moved);
      return java.util.Optional.empty();
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // the probe file is a dot file in tmp/, emptied at the next start
      }
      return java.util.Optional.of("cannot move messages into " + queue + ": " + e);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      slots.close();
      committer.close();
    } finally {
      releaseLock();
    }
  }

  private void releaseLock() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }

  /** How accepted messages reach the disk here: see {@link SizeOrdering}. */
  SizeOrdering ordering() {
    return ordering;
  }

  /** For tests: slots ready for messages accepted alone. */
  int slotsReady() {
    return slots.ready();
  }

  /** For tests: messages accepted alone into a slot (see {@link Slots}): no directory commit each. */
  long slotAccepts() {
    return slots.taken();
  }

  /** For tests: messages accepted alone, renamed in before their fsync. */
  long loneAccepts() {
    return loneAccepts.get();
  }

  /** For tests and the benchmark: directory fsyncs so far and how many commits they covered. */
  long[] commitStats() {
    return committer.stats();
  }

  static void writeSynced(Path file, byte[] bytes) throws IOException {
    try (FileChannel out = PrivateFiles.create(file)) {
      Incoming.writeFully(out, java.nio.ByteBuffer.wrap(bytes));
      out.force(true);
    }
  }

  private static boolean deleteQuietly(Path file, Exception primary) {
    try {
      return Files.deleteIfExists(file);
    } catch (IOException e) {
      primary.addSuppressed(e);
      return false;
    }
  }
}
