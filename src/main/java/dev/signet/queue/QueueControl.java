package dev.signet.queue;

import dev.signet.delivery.Reply;
import dev.signet.events.BounceClass;
import dev.signet.events.BounceRules;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code signet queue} does to a spool, whether its relay runs or not. Reading (list, show) goes
 * through a {@link SpoolView}, which needs no lock: envelopes are only ever replaced by rename, so a
 * reader sees a whole old or a whole new one. Changes (flush, retry, delete) are made here only when
 * the spool's lock is free (no relay); with a relay running they throw {@link Spool.InUse}, and the
 * caller asks the relay through its admin API.
 */
public final class QueueControl {
  /** The message id given is not in the queue; the message names it. */
  public static final class UnknownMessageException extends IOException {
    UnknownMessageException(String message) {
      super(message);
    }
  }

  private final Path spoolDir;
  private final Clock clock;

  private QueueControl(Path spoolDir, Clock clock) {
    this.spoolDir = spoolDir;
    this.clock = clock;
  }

  /** Control of the spool at {@code spoolDir}. */
  public static QueueControl of(Path spoolDir) {
    return new QueueControl(spoolDir, Clock.systemUTC());
  }

  /** Every queued message's envelope, oldest first (an unreadable one is logged and skipped). */
  public List<Envelope> list() throws IOException {
    return SpoolView.of(spoolDir).list();
  }

  /** The envelope of {@code id}. */
  public Envelope envelope(String id) throws IOException {
    try {
      return SpoolView.of(spoolDir).envelope(checked(id));
    } catch (NoSuchFileException e) {
      throw unknown(id);
    }
  }

  /** The header block of message {@code id} as spooled (signed), up to the empty line, at most 1 MB. */
  public String headers(String id) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try (InputStream in = new BufferedInputStream(SpoolView.of(spoolDir).open(checked(id)))) {
      int lineLength = 0;
      for (int b = in.read(); b >= 0 && head.size() < (1 << 20); b = in.read()) {
        if (b == '\n' && lineLength == 0) {
          break;
        }
        head.write(b);
        lineLength = b == '\n' ? 0 : b == '\r' ? lineLength : lineLength + 1;
      }
    } catch (NoSuchFileException e) {
      throw unknown(id);
    }
    return head.toString(StandardCharsets.UTF_8);
  }

  /**
   * Makes every pending recipient of every message due now.
   *
   * @throws Spool.InUse when a relay runs on the spool: ask it (its admin API) instead
   */
  public String flush() throws IOException {
    try (Spool spool = owned()) {
      int n = 0;
      for (Envelope e : spool.list()) {
        retryNow(spool, e.id(), clock.instant());
        n++;
      }
      return "flushed " + n + " message" + (n == 1 ? "" : "s");
    }
  }

  /**
   * Makes every pending recipient of {@code id} due at the relay's next start.
   *
   * @throws Spool.InUse when a relay runs on the spool
   */
  public String retry(String id) throws IOException {
    try (Spool spool = owned()) {
      retryNow(spool, checked(id), clock.instant());
      return "retrying " + id + " at the next start of the relay";
    }
  }

  /**
   * Removes {@code id} from the queue (no bounce is sent).
   *
   * @throws Spool.InUse when a relay runs on the spool
   */
  public String delete(String id) throws IOException {
    try (Spool spool = owned()) {
      return describeDeleted(deleteFrom(spool, checked(id)));
    }
  }

  /** "deleted ID from <sender> (N recipients, M pending)". */
  public static String describeDeleted(Envelope e) {
    long pending = e.recipients().stream().filter(r -> r.state() == Envelope.State.PENDING).count();
    return "deleted " + e.id() + " from <" + e.sender() + "> (" + e.recipients().size() + " recipient"
        + (e.recipients().size() == 1 ? "" : "s") + ", " + pending + " pending)";
  }

  // The actions themselves, shared with the running relay's Scheduler (which holds the message's
  // lock where this class holds the spool's).

  /**
   * Makes every pending recipient of {@code id} due now (flush/retry); returns the new envelope.
   * The caller holds the message's lock (or the spool's, when the relay is stopped).
   *
   * @throws UnknownMessageException when there is no such message
   */
  static Envelope retryNow(Spool spool, String id, Instant now) throws IOException {
    Envelope envelope = envelopeOf(spool, id);
    Envelope result = envelope.withRecipients(envelope.recipients().stream().map(r -> r.dueAt(now)).toList());
    spool.update(result);
    return result;
  }

  /**
   * Removes {@code id} from the queue, without a bounce; returns what was removed.
   *
   * @throws UnknownMessageException when there is no such message
   */
  static Envelope deleteFrom(Spool spool, String id) throws IOException {
    Envelope envelope = envelopeOf(spool, id);
    spool.remove(id);
    return envelope;
  }

  private static Envelope envelopeOf(Spool spool, String id) throws IOException {
    try {
      return spool.envelope(checked(id));
    } catch (NoSuchFileException e) {
      throw unknown(id);
    }
  }

  /** The spool, owned (its lock taken) for a change; fails naming the directory if there is none. */
  private Spool owned() throws IOException {
    SpoolView.of(spoolDir); // no spool there: say so rather than make one
    return Spool.open(spoolDir);
  }

  /**
   * The bounce class of a recipient's last reply (failed, or deferred at least once) under
   * {@code rules}; empty for a recipient delivered or not tried yet.
   */
  public static Optional<String> bounceClass(Envelope.Recipient r, BounceRules rules) {
    if (r.state() == Envelope.State.DELIVERED || r.reply().isEmpty()) {
      return Optional.empty();
    }
    if (r.expired()) {
      return Optional.of(BounceClass.EXPIRED.label());
    }
    Reply reply = r.reply().get();
    return Optional.of(rules.classify(reply.status(), reply.text()).label());
  }

  static String checked(String id) throws UnknownMessageException {
    if (!QueueId.isValid(id)) {
      throw unknown(id);
    }
    return id;
  }

  public static UnknownMessageException unknown(String id) {
    return new UnknownMessageException("no such message in the queue: " + id);
  }
}
