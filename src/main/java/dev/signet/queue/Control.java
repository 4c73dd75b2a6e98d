package dev.signet.queue;

import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The queue commands' actions on the spool (retry now, delete), shared by the running relay's
 * {@link Scheduler} (under the message's lock) and {@link QueueControl} on a stopped relay's spool
 * (under the spool's lock).
 */
final class Control {

  /** The message named does not exist. */
  static final class UnknownMessage extends IOException {
    UnknownMessage(String id) {
      super("no such message in the queue: " + id);
    }
  }

  private Control() {}

  /**
   * Makes every pending recipient of {@code id} due now (flush/retry); returns the new envelope.
   * The caller holds the message's lock (or the spool's, when the relay is stopped).
   */
  static Envelope retryNow(Spool spool, String id, Instant now) throws IOException {
    Envelope envelope = envelopeOf(spool, id);
    List<Recipient> updated = envelope.recipients().stream()
        .map(r -> r.dueAt(now)).toList();
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
