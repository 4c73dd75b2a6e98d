package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery of a spool (docs/ARCHITECTURE.md, "The spool directory"), run by {@link Spool#open}
 * under the spool's lock before anything else touches it: tmp/ holds only what was never
 * acknowledged, so it is emptied; in queue/ every .msg must have a readable envelope (its .env, else
 * its own), an .env without .msg is the remnant of an interrupted removal and is deleted, a pair from
 * an older spool ({@code <id>.eml} + {@code <id>.env}) is converted to a .msg, and anything else goes
 * to corrupt/ with a log line (never deleted silently). What it changed is fsynced before the spool
 * opens.
 */
final class SpoolRecovery {
  private static final Logger log = LoggerFactory.getLogger(SpoolRecovery.class);

  /** What recovery found: leftovers removed from tmp/, files quarantined, messages queued. */
  public record Result(int tmpRemoved, List<String> quarantined, int queued) {
    public Result {
      quarantined = List.copyOf(quarantined);
    }
  }

  private final Path tmp;
  private final Path queue;
  private final Path corrupt;
  private final SpoolView view;
  private final List<String> quarantined = new ArrayList<>();

  private SpoolRecovery(Path dir) {
    this.tmp = dir.resolve("tmp");
    this.queue = dir.resolve("queue");
    this.corrupt = dir.resolve("corrupt");
    this.view = new SpoolView(queue);
  }

  /** Recovers the spool at {@code dir}, whose tmp/, queue/ and corrupt/ exist and whose lock is held. */
  static Result run(Path dir) throws IOException {
    return new SpoolRecovery(dir).recover();
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
    for (Path file : entries) {
      String name = file.getFileName().toString();
      String id = name.length() > 4 ? name.substring(0, name.length() - 4) : name;
      String suffix = name.substring(id.length());
      if (name.startsWith(".probe-")) {
        Files.delete(file); // a /healthz probe cut off by the crash (see Spool.probe())
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
    // Every message now has its .msg; check that each envelope reads.
    int queued = 0;
    for (String id : SpoolView.ids(queue, ".msg")) {
      try {
        view.envelope(id);
        queued++;
      } catch (IOException e) {
        quarantine(queue.resolve(id + ".env"), "unreadable envelope: " + e.getMessage());
        quarantine(queue.resolve(id + ".msg"), "unreadable envelope: " + e.getMessage());
      }
    }
    if (removed > 0 || finished > 0 || converted > 0 || !quarantined.isEmpty()) {
      Committer.fsyncDirectory(queue);
      Committer.fsyncDirectory(corrupt);
      Committer.fsyncDirectory(tmp);
    }
    Result result = new Result(removed, quarantined, queued);
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
