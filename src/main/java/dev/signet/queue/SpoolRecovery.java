package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery of a spool (docs/ARCHITECTURE.md, "The spool directory"), run by {@link Spool#open}
 * under the spool's lock before anything else touches it: tmp/ holds only what was never
 * acknowledged, so it is emptied; in queue/ every .msg must have a readable envelope (its .env, else
 * its own), an .env without .msg is the remnant of an interrupted removal and is deleted, a pair from
 * an older spool ({@code <id>.eml} + {@code <id>.env}) is converted to a .msg, a slot ({@link Slots})
 * is deleted when empty or cut short and renamed to its .msg when whole, a spare (a slot named
 * {@value Slots#SPARE_PREFIX}*, whose message was not yet acknowledged) is deleted, and anything else goes
 * to corrupt/ with a log line (never deleted silently). A .msg shorter than its envelope says was cut
 * short by a crash before its fsync where {@link SizeOrdering} holds (the spool renames a message in
 * before its fsync there): never acknowledged, so it is deleted, as tmp/ is emptied; elsewhere, or
 * when it already has an .env (it was accepted), it goes to corrupt/. What it changed is fsynced
 * before the spool opens.
 */
final class SpoolRecovery {
  private static final Logger log = LoggerFactory.getLogger(SpoolRecovery.class);

  /** What recovery found: leftovers removed from tmp/, files quarantined, messages queued. */
  public record Result(int tmpRemoved, List<String> quarantined, int queued, int cutShort, List<String> unfinished) {
    public Result {
      quarantined = List.copyOf(quarantined);
      unfinished = List.copyOf(unfinished);
    }
  }

  private final Path tmp;
  private final Path queue;
  private final Path corrupt;
  private final SpoolView view;
  private final SizeOrdering ordering;
  private final List<String> quarantined = new ArrayList<>();

  private SpoolRecovery(Path dir, SizeOrdering ordering) {
    this.ordering = ordering;
    this.tmp = dir.resolve("tmp");
    this.queue = dir.resolve("queue");
    this.corrupt = dir.resolve("corrupt");
    this.view = new SpoolView(queue);
  }

  /** Recovers the spool at {@code dir}, whose tmp/, queue/ and corrupt/ exist and whose lock is held. */
  static Result run(Path dir, SizeOrdering ordering) throws IOException {
    return new SpoolRecovery(dir, ordering).recover();
  }

  private Result recover() throws IOException {
    int removed = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
      for (Path file : files) {
        Files.delete(file);
        removed++;
      }
    }
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(queue)) {
      files.forEach(entries::add);
    }
    entries.sort(null);
    int converted = 0;
    int finished = 0;
    int cutShort = 0;
    boolean slotsSeen = false;
    for (Path file : entries) {
      String name = file.getFileName().toString();
      String id = name.length() > 4 ? name.substring(0, name.length() - 4) : name;
      String suffix = name.substring(id.length());
      if (name.startsWith(".probe-")) {
        Files.delete(file); // a /healthz probe cut off by the crash (see Spool.probe())
        continue;
      }
      if (name.startsWith(Slots.PREFIX)) {
        cutShort += slot(file) ? 1 : 0;
        slotsSeen = true;
        continue;
      }
      if (name.startsWith(Slots.SPARE_PREFIX)) {
        cutShort += spare(file) ? 1 : 0;
        slotsSeen = true;
        continue;
      }
      boolean known = QueueId.isValid(id) && List.of(".msg", ".env", ".eml").contains(suffix);
      Path msg = queue.resolve(id + ".msg");
      Path eml = queue.resolve(id + ".eml");
      if (!known) {
        quarantine(file, "unexpected file in queue/");
      } else if (suffix.equals(".eml") && Files.exists(msg)) {
        // A conversion interrupted after its .msg was renamed in: the .msg holds this message.
        Files.delete(file);
        finished++;
        log.info("spool: {}: removed the older spool's copy of a message already converted", name);
      } else if (suffix.equals(".eml") && !Files.exists(queue.resolve(id + ".env"))) {
        // An older spool renamed the .env in last and deleted it first: never acknowledged, or removed.
        quarantine(file, "message without envelope (crash during accept or remove)");
      } else if (suffix.equals(".env") && !Files.exists(msg)) {
        if (Files.exists(eml)) {
          convert(id, file, eml);
          converted++;
        } else {
          Files.delete(file);
          finished++;
          log.info("spool: {}: removed the envelope of a message whose removal was interrupted", name);
        }
      }
    }
    // Every message now has its .msg; check that each is whole and each envelope reads.
    int queued = 0;
    List<String> unfinished = new ArrayList<>();
    for (String id : SpoolView.ids(queue, ".msg")) {
      Path msg = queue.resolve(id + ".msg");
      Path env = queue.resolve(id + ".env");
      try {
        Whole whole = whole(msg, id);
        if (whole.length() < whole.expected()) {
          cutShort += cutShort(id, msg, env, whole.length() + " bytes where its envelope says " + whole.expected())
              ? 1 : 0;
          continue;
        }
        if (Files.exists(env)) {
          view.envelope(id);
        }
        if (whole.unfilled()) {
          unfinished.add(id);
        }
        queued++;
      } catch (EnvelopeFormat.CutShort e) {
        cutShort += cutShort(id, msg, env, "it ends inside its envelope") ? 1 : 0;
      } catch (IOException e) {
        quarantine(env, "unreadable envelope: " + e.getMessage());
        quarantine(msg, "unreadable envelope: " + e.getMessage());
      }
    }
    if (removed > 0 || finished > 0 || converted > 0 || cutShort > 0 || slotsSeen || !quarantined.isEmpty()) {
      Committer.fsyncDirectory(queue);
      Committer.fsyncDirectory(corrupt);
      Committer.fsyncDirectory(tmp);
    }
    Result result = new Result(removed, quarantined, queued, cutShort, unfinished);
    log.info("spool: recovered {} ({}, {}): {} queued ({} converted from .eml + .env), {} unfinished files removed "
        + "from tmp/, {} messages cut short by a crash before their 250 deleted, {} leftovers of interrupted removals "
        + "and conversions deleted, {} moved to corrupt/, {} with signatures to fill in",
        queue.getParent(), ordering.fileSystem(), ordering.holds() ? "one journal commit per message"
            : "fsync before rename", queued, converted, removed, cutShort, finished, quarantined.size(),
        unfinished.size());
    return result;
  }

  /**
   * A .msg's (or a slot's) length, the length its accepted envelope (at its start) says it has, whether
   * its header block holds a placeholder (NUL) that a crash kept the filled-in bytes from replacing, and
   * the envelope's id.
   */
  private record Whole(long length, long expected, boolean unfilled, String id) {}

  /** {@code id}: the one the envelope must name, or null for any (a slot's). */
  private static Whole whole(Path msg, String id) throws IOException {
    try (FileChannel in = FileChannel.open(msg, StandardOpenOption.READ)) {
      byte[] prefix = EnvelopeFormat.readPrefix(java.nio.channels.Channels.newInputStream(in));
      Envelope accepted = EnvelopeFormat.parse(prefix, id);
      long expected = prefix.length + accepted.size();
      boolean unfilled = in.size() >= expected && indexOfNul(headerBlock(in, prefix.length)) >= 0;
      return new Whole(in.size(), expected, unfilled, accepted.id());
    }
  }

  /** The most header block bytes read: the message stage's limit (1 MB) with room for the fields it adds. */
  private static final int MAX_HEADER_BLOCK = 2 << 20;

  /**
   * The header block of the message that starts at {@code start} of {@code file}: up to and
   * including the empty line that ends it, or to the end of the file.
   */
  static byte[] headerBlock(FileChannel file, long start) throws IOException {
    byte[] bytes = new byte[8192];
    int length = 0;
    while (true) {
      if (length == bytes.length) {
        if (length >= MAX_HEADER_BLOCK) {
          throw new IOException("no end of the header block in the first " + MAX_HEADER_BLOCK
              + " bytes of the message");
        }
        bytes = java.util.Arrays.copyOf(bytes, Math.min(MAX_HEADER_BLOCK, length * 2));
      }
      int n = file.read(java.nio.ByteBuffer.wrap(bytes, length, bytes.length - length), start + length);
      if (n <= 0) {
        return java.util.Arrays.copyOf(bytes, length);
      }
      int from = Math.max(0, length - 3); // the end may straddle the previous read
      length += n;
      if (length >= 2 && bytes[0] == '\r' && bytes[1] == '\n') {
        return java.util.Arrays.copyOf(bytes, 2); // no header fields
      }
      for (int i = from; i + 3 < length; i++) {
        if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
          return java.util.Arrays.copyOf(bytes, i + 4);
        }
      }
    }
  }

  /** The index of the first NUL byte in {@code bytes}, or -1. */
  static int indexOfNul(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  /**
   * A .msg shorter than its envelope says. Where the spool renames messages in before their fsync
   * and the message has no .env (nothing was recorded for it after its 250), a crash cut it short
   * before its fsync returned, so its client never got a 250 and still has it: deleted, true.
   * Otherwise it was damaged after acceptance: to corrupt/, false.
   */
  private boolean cutShort(String id, Path msg, Path env, String why) throws IOException {
    if (ordering.holds() && !Files.exists(env)) {
      Files.delete(msg);
      log.warn("spool: {}.msg: cut short by a crash before its fsync ({}); never acknowledged, deleted", id, why);
      return true;
    }
    quarantine(env, "its .msg is cut short");
    quarantine(msg, "cut short: " + why);
    return false;
  }

  /**
   * A slot ({@link Slots}) left by a crash. Empty: never used, deleted. Holding a whole message:
   * accepted (its 250 followed its fsync) but not yet renamed, or renamed only in a directory
   * change the crash kept off the disk; renamed to its .msg now, which the checks after this read like
   * any other. Cut short: a crash before its fsync returned, so never acknowledged: deleted, true.
   * Anything else goes to corrupt/.
   */
  private boolean slot(Path file) throws IOException {
    if (Files.size(file) == 0) {
      Files.delete(file);
      return false;
    }
    String name = file.getFileName().toString();
    Whole whole;
    try {
      whole = whole(file, null);
    } catch (EnvelopeFormat.CutShort e) {
      Files.delete(file);
      log.warn("spool: {}: cut short inside its envelope by a crash before its fsync; never acknowledged, deleted", name);
      return true;
    } catch (IOException e) {
      quarantine(file, "unreadable envelope in a slot: " + e.getMessage());
      return false;
    }
    if (whole.length() < whole.expected()) {
      Files.delete(file);
      log.warn("spool: {}: message {} cut short by a crash before its fsync ({} bytes where its envelope says {}); "
          + "never acknowledged, deleted", name, whole.id(), whole.length(), whole.expected());
      return true;
    }
    Path msg = queue.resolve(whole.id() + ".msg");
    if (!QueueId.isValid(whole.id()) || Files.exists(msg)) {
      quarantine(file, "a slot holding message " + whole.id() + ", which queue/ already has or cannot name");
      return false;
    }
    Files.move(file, msg, StandardCopyOption.ATOMIC_MOVE);
    log.info("spool: {}: message {} accepted alone before the crash, renamed to its .msg", name, whole.id());
    return false;
  }

  /**
   * A spare ({@link Slots#SPARE_PREFIX}) left by a crash: deleted. A message written into one was
   * acknowledged only after its rename to the .msg reached the disk, so whatever a spare still holds
   * was never acknowledged (and, where the file system does not keep a file's size behind its data, may
   * hold blocks never written). True if it held something.
   */
  private boolean spare(Path file) throws IOException {
    long size = Files.size(file);
    Files.delete(file);
    if (size > 0) {
      log.warn("spool: {}: a message written into it before the crash, never acknowledged (its rename had not "
          + "reached the disk); deleted", file.getFileName());
    }
    return size > 0;
  }

  /**
   * Turns an older spool's pair into a .msg: the envelope, then the message, fsynced and renamed in;
   * then the .eml and .env go. A crash in between leaves a .msg (+ .env), which is a whole message,
   * and maybe the .eml, which recovery then deletes.
   */
  private void convert(String id, Path env, Path eml) throws IOException {
    byte[] envelope = Files.readAllBytes(env);
    try {
      EnvelopeFormat.parse(envelope, id);
    } catch (IOException e) {
      quarantine(env, "unreadable envelope: " + e.getMessage());
      quarantine(eml, "its envelope is unreadable");
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

  private void quarantine(Path file, String why) throws IOException {
    if (moveToCorrupt(file, corrupt)) {
      quarantined.add(file.getFileName().toString());
      log.warn("spool: moved {} to {}: {}", file.getFileName(), corrupt, why);
    }
  }

  /**
   * Moves {@code file} into {@code corrupt} (the caller fsyncs both directories), under a new name if
   * an earlier file there has its name: a rename would replace that one, and nothing kept for a human
   * is deleted silently. False if {@code file} is not there (already moved with its partner).
   */
  static boolean moveToCorrupt(Path file, Path corrupt) throws IOException {
    if (!Files.exists(file)) {
      return false;
    }
    Path target = corrupt.resolve(file.getFileName());
    if (Files.exists(target)) {
      target = corrupt.resolve(file.getFileName() + "." + System.currentTimeMillis());
    }
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    return true;
  }
}
