package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import dev.signet.delivery.MessageSource;
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
 * The durable queue of accepted messages (docs/ARCHITECTURE.md, "The spool directory"). Layout under the spool directory:
 * <pre>
 * tmp/      messages being received and envelopes being rewritten; emptied at every start
 * queue/    &lt;id&gt;.msg: the {@link Envelope} as accepted, then the signed message;
 *           &lt;id&gt;.env: the envelope, once it changed after acceptance (it then replaces the
 *           one in the .msg); a message exists while its .msg is there
 * corrupt/  files recovery could not make sense of, kept for a human (never deleted silently)
 * lock      held by the process that owns the spool
 * </pre>
 * {@link #accept} returns only after the .msg is fsynced and renamed into queue/ and queue/ is
 * fsynced: one file and one file fsync per message, so a crash at any instant loses no acknowledged
 * message and shows no partial one. The envelope records the message's size, so the message bytes
 * are the last {@code size} bytes of the .msg. {@link #remove} deletes the .msg first and then any
 * .env, so an .env alone is the remnant of an interrupted removal. Spools written before the .msg
 * file ({@code <id>.eml} + {@code <id>.env}) are converted when opened. Mail is private: every file
 * and directory here is made through {@link PrivateFiles} (0600, 0700), and opening the spool makes
 * an older version's open directories 0700. Thread-safe.
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
  public static final class InUse extends IOException {
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
      PrivateFiles.directory(d);
    }
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
    if (envelope.size() != message.size()) {
      throw new IllegalArgumentException("envelope size " + envelope.size() + " is not the message's " + message.size());
    }
    String id = message.id();
    Path msg = queue.resolve(id + ".msg");
    try {
      message.write(EnvelopeFormat.format(envelope));
      // RFC 5321 §6.1: once the 250 is sent the message is ours; it must be on disk first.
      committer.commit(List.of(() -> Files.move(message.messageFile(), msg, StandardCopyOption.ATOMIC_MOVE)));
      message.markAccepted();
    } catch (IOException | RuntimeException e) {
      // Not acknowledged: take it out of the queue again.
      deleteQuietly(msg, e);
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
    for (String id : ids(queue, ".msg")) {
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

  /** The envelope of queued message {@code id}: its .env if it has one, else the one in its .msg. */
  public Envelope envelope(String id) throws IOException {
    Path env = queue.resolve(checkedId(id) + ".env");
    byte[] bytes;
    try {
      // Most messages never get an .env: ask first rather than pay for an exception per read.
      if (!Files.exists(env)) {
        return acceptedEnvelope(queue.resolve(id + ".msg"), id);
      }
      bytes = Files.readAllBytes(env);
    } catch (NoSuchFileException e) {
      return acceptedEnvelope(queue.resolve(id + ".msg"), id); // removed just now: so is the .msg, or soon
    }
    try {
      return EnvelopeFormat.parse(bytes, id);
    } catch (IOException e) {
      throw new IOException(env + ": " + e.getMessage(), e);
    }
  }

  /** The envelope at the start of {@code msg}, as the message was accepted. */
  private static Envelope acceptedEnvelope(Path msg, String id) throws IOException {
    try (InputStream in = Files.newInputStream(msg)) {
      return EnvelopeFormat.parse(EnvelopeFormat.readPrefix(in), id);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(msg + ": " + e.getMessage(), e);
    }
  }

  /**
   * Where the signed bytes of queued message {@code envelope} are (delivery streams them as they are):
   * the last {@code envelope.size()} bytes of its .msg.
   */
  public MessageSource message(Envelope envelope) throws IOException {
    Path msg = queue.resolve(checkedId(envelope.id()) + ".msg");
    long offset = Files.size(msg) - envelope.size();
    if (offset <= 0) {
      throw new IOException(msg + ": " + Files.size(msg) + " bytes, too short for its envelope and a message of "
          + envelope.size());
    }
    return new MessageSource(msg, offset);
  }

  /** The signed message bytes of queued message {@code id}. */
  public InputStream open(String id) throws IOException {
    return message(envelope(id)).open();
  }

  /** Durably replaces the envelope of a queued message (e.g. new recipient states). */
  public void update(Envelope envelope) throws IOException {
    requireOwner();
    String id = checkedId(envelope.id());
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
    requireOwner();
    Path msg = queue.resolve(checkedId(id) + ".msg");
    Path env = queue.resolve(id + ".env");
    committer.commit(List.of(() -> Files.delete(msg), () -> Files.deleteIfExists(env)));
  }

  /**
   * For {@code /healthz}: can a message be received now? Creates a probe file in tmp/, where every
   * message starts, renames it into queue/, where every accepted message is renamed, and deletes it
   * there. Empty = both work, otherwise the problem. (Recovery ignores the dot file if a crash leaves it.)
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
    try (FileChannel out = PrivateFiles.create(file)) {
      Incoming.writeFully(out, java.nio.ByteBuffer.wrap(bytes));
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
   * Start-up recovery: tmp/ holds only what was never acknowledged, so it is emptied; in queue/ every
   * .msg must have a readable envelope (its .env, else its own), an .env without .msg is the remnant
   * of an interrupted removal and is deleted, a pair from an older spool ({@code .eml} + {@code .env})
   * is converted to a .msg, and anything else goes to corrupt/ with a log line.
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
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(queue)) {
      files.forEach(entries::add);
    }
    entries.sort(null);
    int converted = 0;
    int finished = 0;
    for (Path file : entries) {
      String name = file.getFileName().toString();
      String id = name.length() > 4 ? name.substring(0, name.length() - 4) : name;
      String suffix = name.substring(id.length());
      if (name.startsWith(".probe-")) {
        Files.delete(file); // a /healthz probe cut off by the crash (see probe())
        continue;
      }
      boolean known = QueueId.isValid(id) && List.of(".msg", ".env", ".eml").contains(suffix);
      Path msg = queue.resolve(id + ".msg");
      Path eml = queue.resolve(id + ".eml");
      if (!known) {
        quarantine(file, "unexpected file in queue/", quarantined);
      } else if (suffix.equals(".eml") && Files.exists(msg)) {
        // A conversion interrupted after its .msg was renamed in: the .msg holds this message.
        Files.delete(file);
        finished++;
        log.info("spool: {}: removed the older spool's copy of a message already converted", name);
      } else if (suffix.equals(".eml") && !Files.exists(queue.resolve(id + ".env"))) {
        // An older spool renamed the .env in last and deleted it first: never acknowledged, or removed.
        quarantine(file, "message without envelope (crash during accept or remove)", quarantined);
      } else if (suffix.equals(".env") && !Files.exists(msg)) {
        if (Files.exists(eml)) {
          convert(id, file, eml, quarantined);
          converted++;
        } else {
          Files.delete(file);
          finished++;
          log.info("spool: {}: removed the envelope of a message whose removal was interrupted", name);
        }
      }
    }
    // Every message now has its .msg; check that each envelope reads.
    int queued = 0;
    for (String id : ids(queue, ".msg")) {
      try {
        envelope(id);
        queued++;
      } catch (IOException e) {
        quarantine(queue.resolve(id + ".env"), "unreadable envelope: " + e.getMessage(), quarantined);
        quarantine(queue.resolve(id + ".msg"), "unreadable envelope: " + e.getMessage(), quarantined);
      }
    }
    if (removed > 0 || finished > 0 || converted > 0 || !quarantined.isEmpty()) {
      Committer.fsyncDirectory(queue);
      Committer.fsyncDirectory(corrupt);
      Committer.fsyncDirectory(tmp);
    }
    Recovery result = new Recovery(removed, quarantined, queued);
    log.info("spool: recovered {}: {} queued ({} converted from .eml + .env), {} unfinished files removed from tmp/, "
        + "{} leftovers of interrupted removals and conversions deleted, {} moved to corrupt/",
        queue.getParent(), queued, converted, removed, finished, quarantined.size());
    return result;
  }

  /**
   * Turns an older spool's pair into a .msg: the envelope, then the message, fsynced and renamed in;
   * then the .eml and .env go. A crash in between leaves a .msg (+ .env), which is a whole message,
   * and maybe the .eml, which recovery then deletes.
   */
  private void convert(String id, Path env, Path eml, List<String> quarantined) throws IOException {
    byte[] envelope = Files.readAllBytes(env);
    try {
      EnvelopeFormat.parse(envelope, id);
    } catch (IOException e) {
      quarantine(env, "unreadable envelope: " + e.getMessage(), quarantined);
      quarantine(eml, "its envelope is unreadable", quarantined);
      return;
    }
    Path next = tmp.resolve(id + ".msg");
    try (FileChannel out = PrivateFiles.create(next)) {
      Incoming.writeFully(out, java.nio.ByteBuffer.wrap(envelope));
      Incoming.copyFully(eml, Files.size(eml), out);
      out.force(true);
    }
    Files.move(next, queue.resolve(id + ".msg"), StandardCopyOption.ATOMIC_MOVE);
    Committer.fsyncDirectory(queue);
    Files.delete(eml);
    Files.delete(env);
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
