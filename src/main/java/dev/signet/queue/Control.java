package dev.signet.queue;

import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Queue commands for a running relay, as files in {@code <spool>/control/}: the CLI writes
 * {@code <name>.req} (flush, retry-ID or delete-ID, plus a nonce), the scheduler polls the directory,
 * runs the request, writes {@code <name>.done} ("ok TEXT" or "error TEXT") and deletes the request.
 * Files appear by rename only, so neither side ever reads a half-written one. Also the actions
 * themselves, shared by the scheduler and the CLI acting on a stopped relay's spool.
 */
final class Control {
  static final String REQUEST = ".req";
  static final String DONE = ".done";

  enum Action { FLUSH, RETRY, DELETE }

  /** One request: its file name without suffix, the action, and the message id (RETRY, DELETE). */
  record Request(String name, Action action, Optional<String> id) {
    /** Parses a request name: {@code flush-NONCE}, {@code retry-ID-NONCE}, {@code delete-ID-NONCE}. */
    static Optional<Request> parse(String name) {
      String[] parts = name.split("-", -1);
      try {
        Action action = Action.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT));
        if (action == Action.FLUSH && parts.length == 2) {
          return Optional.of(new Request(name, action, Optional.empty()));
        }
        if (action != Action.FLUSH && parts.length == 3 && QueueId.isValid(parts[1])) {
          return Optional.of(new Request(name, action, Optional.of(parts[1])));
        }
      } catch (IllegalArgumentException e) {
        // not an action name
      }
      return Optional.empty();
    }
  }

  /** The message named in a request does not exist. */
  static final class UnknownMessage extends IOException {
    UnknownMessage(String id) {
      super("no such message in the queue: " + id);
    }
  }

  private Control() {}

  static Path dir(Path spoolDir) {
    return spoolDir.resolve("control");
  }

  /** Requests waiting in {@code dir}, oldest name first; files that are not requests are ignored. */
  static List<Request> pending(Path dir) throws IOException {
    List<Request> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + REQUEST)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        Request.parse(name.substring(0, name.length() - REQUEST.length())).ifPresent(out::add);
      }
    }
    out.sort((a, b) -> a.name().compareTo(b.name()));
    return out;
  }

  /** Publishes {@code text} as the answer to {@code request} and removes the request. */
  static void answer(Path dir, Request request, boolean ok, String text) throws IOException {
    Path tmp = dir.resolve(request.name() + ".tmp");
    Files.writeString(tmp, (ok ? "ok " : "error ") + text + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve(request.name() + DONE), StandardCopyOption.ATOMIC_MOVE);
    Files.deleteIfExists(dir.resolve(request.name() + REQUEST));
  }

  /** Writes a request file by rename; returns its name. */
  static String submit(Path dir, Action action, Optional<String> id) throws IOException {
    Files.createDirectories(dir);
    String nonce = Long.toString(System.nanoTime(), 36) + Integer.toString(new java.util.Random().nextInt(1 << 20), 36);
    String name = action.name().toLowerCase(java.util.Locale.ROOT) + id.map(i -> "-" + i).orElse("") + "-" + nonce;
    Path tmp = dir.resolve(name + ".tmp");
    Files.writeString(tmp, "", StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve(name + REQUEST), StandardCopyOption.ATOMIC_MOVE);
    return name;
  }

  /**
   * Makes every pending recipient of {@code id} due now (flush/retry); returns the new envelope.
   * The caller holds the message's lock (or the spool's, when the relay is stopped).
   */
  static Envelope retryNow(Spool spool, String id, Instant now) throws IOException {
    Envelope envelope = envelopeOf(spool, id);
    List<Recipient> updated = envelope.recipients().stream()
        .map(r -> r.state() == State.PENDING
            ? new Recipient(r.address(), r.state(), r.attempts(), Optional.of(now), r.lastReply()) : r)
        .toList();
    Envelope result = envelope.withRecipients(updated);
    spool.update(result);
    return result;
  }

  /** Removes {@code id} from the queue, without a bounce; returns what was removed. */
  static Envelope delete(Spool spool, String id) throws IOException {
    Envelope envelope = envelopeOf(spool, id);
    spool.remove(id);
    return envelope;
  }

  static String describeDeleted(Envelope e) {
    long pending = e.recipients().stream().filter(r -> r.state() == State.PENDING).count();
    return "deleted " + e.id() + " from <" + e.sender() + "> (" + e.recipients().size() + " recipient"
        + (e.recipients().size() == 1 ? "" : "s") + ", " + pending + " pending)";
  }

  private static Envelope envelopeOf(Spool spool, String id) throws IOException {
    if (!QueueId.isValid(id)) {
      throw new UnknownMessage(id);
    }
    try {
      return spool.envelope(id);
    } catch (NoSuchFileException e) {
      throw new UnknownMessage(id);
    }
  }
}
