package dev.signet.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable queue of accepted messages (DESIGN.md "Spool"). Layout under the spool directory:
 * <pre>
 * tmp/      messages being received and envelopes being rewritten; emptied at every start
 * queue/    &lt;id&gt;.eml (the signed message) + &lt;id&gt;.env (its {@link Envelope});
 *           a message exists once its .env is there
 * corrupt/  files recovery could not make sense of, kept for a human (never deleted silently)
 * lock      held by the process that owns the spool
 * </pre>
 * {@link #accept} returns only after both files are fsynced and renamed into queue/ and queue/
 * is fsynced, so a crash at any instant loses no acknowledged message and shows no partial one:
 * the .eml is renamed first and the .env last, and recovery quarantines an .eml without .env.
 * Thread-safe.
 */
public final class Spool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Spool.class);

  /** What {@link #open} found: leftovers removed, files quarantined, messages queued. */
  public record Recovery(int tmpRemoved, List<String> quarantined, int queued) {
    public Recovery {
      quarantined = List.copyOf(quarantined);
    }
  }

  /** {@link #open} found the lock held: a relay is running on this spool. */
  static final class InUse extends IOException {
    InUse(String message) {
      super(message);
    }
  }

  private final Path tmp;
  private final Path queue;
  private final Path corrupt;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final QueueId ids;
  private final Committer committer;
  private final Recovery recovery;
  private final AtomicLong rewrites = new AtomicLong();
  private volatile Consumer<Envelope> onAccept = envelope -> {};

  /** A read-only view for {@code signet queue list|show} next to a running relay: no lock, no recovery. */
  private Spool(Path dir) throws IOException {
    this.tmp = dir.resolve("tmp");
    this.queue = dir.resolve("queue");
    this.corrupt = dir.resolve("corrupt");
    if (!Files.isDirectory(queue)) {
      throw new NoSuchFileException(queue.toString(), null, "no spool here");
    }
    this.lockChannel = null;
    this.lock = null;
    this.ids = null;
    this.committer = null;
    this.recovery = null;
  }

  private Spool(Path dir, boolean groupCommit, Clock clock) throws IOException {
    this.tmp = dir.resolve("tmp");
    this.queue = dir.resolve("queue");
    this.corrupt = dir.resolve("corrupt");
    for (Path d : List.of(dir, tmp, queue, corrupt)) {
      Files.createDirectories(d);
    }
    this.lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
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
    try {
      this.recovery = recover();
    } catch (IOException e) {
      close();
      throw e;
    }
    this.committer = new Committer(queue, groupCommit);
  }

  /** Opens (creating if needed) and recovers the spool at {@code dir}, with group commit. */
  public static Spool open(Path dir) throws IOException {
    return new Spool(dir, true, Clock.systemUTC());
  }

  /** {@code groupCommit=false}: every accept fsyncs the directory itself (for measurement). */
  static Spool open(Path dir, boolean groupCommit) throws IOException {
    return new Spool(dir, groupCommit, Clock.systemUTC());
  }

  /** The spool's directory. */
  Path dir() {
    return queue.getParent();
  }

  /**
   * A read-only view of the spool at {@code dir}, usable while a relay owns it: {@link #list},
   * {@link #envelope} and {@link #open} work (each envelope is replaced atomically, so a reader
   * never sees a partial one); the methods that change the spool throw {@link IllegalStateException}.
   */
  public static Spool inspect(Path dir) throws IOException {
    return new Spool(dir);
  }

  /** What recovery found when this spool was opened ({@code null} for an {@link #inspect} view). */
  public Recovery recovery() {
    return recovery;
  }

  private void requireOwner() {
    if (committer == null) {
      throw new IllegalStateException("read-only view of the spool (Spool.inspect)");
    }
  }

  /** Starts receiving a message; its id is fixed now (it goes into the Received field). */
  public Incoming receive() throws IOException {
    requireOwner();
    return new Incoming(ids.next(), tmp);
  }

  /**
   * Puts a received message into the queue, durably. On return the message survives a crash; on
   * an exception it is not in the queue (and the caller must not acknowledge it).
   *
   * @param envelope the envelope to store; its id is {@code message.id()}
   */
  public void accept(Incoming message, Envelope envelope) throws IOException {
    requireOwner();
    if (!message.complete()) {
      throw new IllegalStateException("message " + message.id() + " has no header block yet");
    }
    if (!envelope.id().equals(message.id())) {
      throw new IllegalArgumentException("envelope id " + envelope.id() + " is not message id " + message.id());
    }
    String id = message.id();
    Path tmpEnv = tmp.resolve(id + ".env");
    Path eml = queue.resolve(id + ".eml");
    Path env = queue.resolve(id + ".env");
    try {
      writeSynced(tmpEnv, EnvelopeFormat.format(envelope));
      // RFC 5321 §6.1: once the 250 is sent the message is ours; it must be on disk first.
      committer.commit(List.of(
          () -> Files.move(message.messageFile(), eml, StandardCopyOption.ATOMIC_MOVE),
          () -> Files.move(tmpEnv, env, StandardCopyOption.ATOMIC_MOVE)));
      message.markAccepted();
    } catch (IOException | RuntimeException e) {
      // Not acknowledged: take it out of the queue again, .env first so it never looks complete.
      deleteQuietly(env, e);
      deleteQuietly(eml, e);
      deleteQuietly(tmpEnv, e);
      throw e;
    }
    try {
      onAccept.accept(envelope);
    } catch (RuntimeException e) {
      // The message is safe on disk; it is scheduled at the next start at the latest.
      log.error("spool: accepted {} but could not hand it on: {}", id, e.toString());
    }
  }

  /**
   * {@code listener} gets every envelope right after {@link #accept} made it durable (the scheduler
   * takes new messages from here). It must be quick: it runs before the client gets its 250.
   */
  public void onAccept(Consumer<Envelope> listener) {
    this.onAccept = java.util.Objects.requireNonNull(listener);
  }

  /** Every queued message's envelope, oldest first. A corrupt envelope is logged and skipped. */
  public List<Envelope> list() throws IOException {
    List<Envelope> out = new ArrayList<>();
    for (String id : ids(queue, ".env")) {
      try {
        out.add(envelope(id));
      } catch (NoSuchFileException e) {
        // removed while we listed
      } catch (IOException e) {
        log.error("spool: cannot read envelope {}: {} (left in place; moved to corrupt/ at next start)",
            id, e.getMessage());
      }
    }
    return out;
  }

  /** The envelope of queued message {@code id}. */
  public Envelope envelope(String id) throws IOException {
    Path file = queue.resolve(checkedId(id) + ".env");
    try {
      return EnvelopeFormat.parse(Files.readAllBytes(file), id);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  /** The file holding the signed bytes of queued message {@code id} (delivery streams it as is). */
  public Path messageFile(String id) {
    return queue.resolve(checkedId(id) + ".eml");
  }

  /** The signed message bytes of queued message {@code id}. */
  public InputStream open(String id) throws IOException {
    return Files.newInputStream(queue.resolve(checkedId(id) + ".eml"));
  }

  /** Durably replaces the envelope of a queued message (e.g. new recipient states). */
  public void update(Envelope envelope) throws IOException {
    requireOwner();
    String id = checkedId(envelope.id());
    Path env = queue.resolve(id + ".env");
    if (!Files.exists(env)) {
      throw new NoSuchFileException(env.toString(), null, "no such queued message");
    }
    Path next = tmp.resolve(id + ".env." + rewrites.incrementAndGet());
    try {
      writeSynced(next, EnvelopeFormat.format(envelope));
      committer.commit(List.of(() -> Files.move(next, env, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING)));
    } finally {
      Files.deleteIfExists(next);
    }
  }

  /** Durably removes a message whose recipients are all done. The .env goes first. */
  public void remove(String id) throws IOException {
    requireOwner();
    Path env = queue.resolve(checkedId(id) + ".env");
    Path eml = queue.resolve(id + ".eml");
    committer.commit(List.of(() -> Files.delete(env), () -> Files.deleteIfExists(eml)));
  }

  /**
   * For {@code /healthz}: can a message be received now? Creates and deletes a probe file in tmp/,
   * where every message starts. Empty = writable, otherwise the problem.
   */
  public java.util.Optional<String> probe() {
    Path file = tmp.resolve(".probe-" + Thread.currentThread().threadId());
    try {
      Files.deleteIfExists(file);
      Files.createFile(file);
      Files.delete(file);
      return java.util.Optional.empty();
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.of("cannot write in " + tmp + ": " + e);
    }
  }

  @Override
  public void close() throws IOException {
    if (committer != null) {
      committer.close();
    }
    if (lock == null) {
      return; // an inspect view holds nothing
    }
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }

  /** For tests and the benchmark: directory fsyncs so far and how many commits they covered. */
  long[] commitStats() {
    return committer.stats();
  }

  private static String checkedId(String id) {
    if (!QueueId.isValid(id)) {
      throw new IllegalArgumentException("not a queue id: '" + id + "'");
    }
    return id;
  }

  static void writeSynced(Path file, byte[] bytes) throws IOException {
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
  }

  private static void deleteQuietly(Path file, Exception primary) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }

  /** Sorted ids of the files in {@code dir} named {@code <id><suffix>}. */
  private static List<String> ids(Path dir, String suffix) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + suffix)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        String id = name.substring(0, name.length() - suffix.length());
        if (QueueId.isValid(id)) {
          out.add(id);
        }
      }
    }
    out.sort(null);
    return out;
  }

  /**
   * Start-up recovery: tmp/ holds only what was never acknowledged, so it is emptied; queue/ must
   * hold complete pairs with readable envelopes, anything else goes to corrupt/ with a log line.
   */
  private Recovery recover() throws IOException {
    int removed = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
      for (Path file : files) {
        Files.delete(file);
        removed++;
      }
    }
    List<String> quarantined = new ArrayList<>();
    int queued = 0;
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(queue)) {
      files.forEach(entries::add);
    }
    entries.sort(null);
    for (Path file : entries) {
      String name = file.getFileName().toString();
      String id = name.length() > 4 ? name.substring(0, name.length() - 4) : name;
      boolean known = QueueId.isValid(id) && (name.endsWith(".eml") || name.endsWith(".env"));
      if (!known) {
        quarantine(file, "unexpected file in queue/", quarantined);
      } else if (name.endsWith(".eml") && !Files.exists(queue.resolve(id + ".env"))) {
        // The .env is renamed in last and deleted first: this message was either never
        // acknowledged (crash during accept) or already removed (crash during remove).
        quarantine(file, "message without envelope (crash during accept or remove)", quarantined);
      } else if (name.endsWith(".env")) {
        Path eml = queue.resolve(id + ".eml");
        if (!Files.exists(eml)) {
          quarantine(file, "envelope without message", quarantined);
          continue;
        }
        try {
          EnvelopeFormat.parse(Files.readAllBytes(file), id);
          queued++;
        } catch (IOException e) {
          quarantine(file, "unreadable envelope: " + e.getMessage(), quarantined);
          quarantine(eml, "its envelope is unreadable", quarantined);
        }
      }
    }
    if (removed > 0 || !quarantined.isEmpty()) {
      Committer.fsyncDirectory(queue);
      Committer.fsyncDirectory(corrupt);
      Committer.fsyncDirectory(tmp);
    }
    Recovery result = new Recovery(removed, quarantined, queued);
    log.info("spool: recovered {}: {} queued, {} unfinished files removed from tmp/, {} moved to corrupt/",
        queue.getParent(), queued, removed, quarantined.size());
    return result;
  }

  private void quarantine(Path file, String why, List<String> quarantined) throws IOException {
    if (!Files.exists(file)) {
      return; // already moved with its partner
    }
    Path target = corrupt.resolve(file.getFileName());
    if (Files.exists(target)) {
      target = corrupt.resolve(file.getFileName() + "." + System.currentTimeMillis());
    }
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    quarantined.add(file.getFileName().toString());
    log.warn("spool: moved {} to {}: {}", file.getFileName(), corrupt, why);
  }
}
