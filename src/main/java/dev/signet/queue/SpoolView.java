package dev.signet.queue;

import dev.signet.delivery.MessageSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading the queued messages of a spool (docs/ARCHITECTURE.md, "The spool directory"): their
 * envelopes and their signed bytes. It takes no lock and changes nothing, so {@code signet queue
 * list|show} uses it next to a running relay: every envelope is replaced by rename, so a reader sees
 * a whole old or a whole new one. The owning {@link Spool} reads through one too. Thread-safe.
 */
final class SpoolView {
  private static final Logger log = LoggerFactory.getLogger(SpoolView.class);

  private final Path queue;

  SpoolView(Path queue) {
    this.queue = queue;
  }

  /** A view of the spool at {@code dir}; fails if there is no spool there. */
  public static SpoolView of(Path dir) throws IOException {
    Path queue = dir.resolve("queue");
    if (!Files.isDirectory(queue)) {
      throw new NoSuchFileException(queue.toString(), null, "no spool here");
    }
    return new SpoolView(queue);
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

  static String checkedId(String id) {
    if (!QueueId.isValid(id)) {
      throw new IllegalArgumentException("not a queue id: '" + id + "'");
    }
    return id;
  }

  /** Sorted ids of the files in {@code dir} named {@code <id><suffix>}. */
  static List<String> ids(Path dir, String suffix) throws IOException {
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
}
