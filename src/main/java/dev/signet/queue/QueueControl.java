package dev.signet.queue;

import dev.signet.delivery.Reply;
import dev.signet.events.BounceClass;
import dev.signet.events.BounceRules;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code signet queue} does to a spool, whether its relay runs or not. Reading (list, show) goes
 * through {@link Spool#inspect}, which needs no lock: envelopes are only ever replaced by rename, so a
 * reader sees a whole old or a whole new one. Changes (flush, retry, delete) are made directly when the spool's lock is free
 * (no relay), and otherwise handed to the running relay's scheduler through control/ request files,
 * waiting a bounded time for its answer.
 */
public final class QueueControl {
  private static final Duration POLL = Duration.ofMillis(50);

  /** What a change did, and whether the running relay did it. */
  public record Outcome(boolean viaRelay, String text) {}

  /** The message id given is not in the queue; the message names it. */
  public static final class UnknownMessageException extends IOException {
    UnknownMessageException(String message) {
      super(message);
    }
  }

  private final Path spoolDir;
  private final Duration wait;
  private final Clock clock;

  private QueueControl(Path spoolDir, Duration wait, Clock clock) {
    this.spoolDir = spoolDir;
    this.wait = wait;
    this.clock = clock;
  }

  /** Control of the spool at {@code spoolDir}; a running relay gets {@code wait} to answer a request. */
  public static QueueControl of(Path spoolDir, Duration wait) {
    return new QueueControl(spoolDir, wait, Clock.systemUTC());
  }

  /** Every queued message's envelope, oldest first (an unreadable one is logged and skipped). */
  public List<Envelope> list() throws IOException {
    try (Spool view = Spool.inspect(spoolDir)) {
      return view.list();
    }
  }

  /** The envelope of {@code id}. */
  public Envelope envelope(String id) throws IOException {
    try (Spool view = Spool.inspect(spoolDir)) {
      return view.envelope(checked(id));
    } catch (NoSuchFileException e) {
      throw unknown(id);
    }
  }

  /** The header block of message {@code id} as spooled (signed), up to the empty line, at most 1 MB. */
  public String headers(String id) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try (Spool view = Spool.inspect(spoolDir);
        InputStream in = new BufferedInputStream(view.open(checked(id)))) {
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

  /** Makes every pending recipient of every message due now. */
  public Outcome flush() throws IOException, InterruptedException {
    return change(Control.Action.FLUSH, Optional.empty());
  }

  /** Makes every pending recipient of {@code id} due now. */
  public Outcome retry(String id) throws IOException, InterruptedException {
    return change(Control.Action.RETRY, Optional.of(checked(id)));
  }

  /** Removes {@code id} from the queue (no bounce is sent). */
  public Outcome delete(String id) throws IOException, InterruptedException {
    return change(Control.Action.DELETE, Optional.of(checked(id)));
  }

  private Outcome change(Control.Action action, Optional<String> id) throws IOException, InterruptedException {
    Spool.inspect(spoolDir).close(); // fails naming the directory if there is no spool
    Spool spool;
    try {
      spool = Spool.open(spoolDir);
    } catch (Spool.InUse running) {
      return viaRelay(action, id);
    }
    try (spool) {
      return new Outcome(false, direct(spool, action, id));
    } catch (Control.UnknownMessage e) {
      throw unknown(id.orElseThrow());
    }
  }

  private String direct(Spool spool, Control.Action action, Optional<String> id) throws IOException {
    return switch (action) {
      case FLUSH -> {
        int n = 0;
        for (Envelope e : spool.list()) {
          Control.retryNow(spool, e.id(), clock.instant());
          n++;
        }
        yield "flushed " + n + " message" + (n == 1 ? "" : "s");
      }
      case RETRY -> {
        Control.retryNow(spool, id.orElseThrow(), clock.instant());
        yield "retrying " + id.orElseThrow() + " at the next start of the relay";
      }
      case DELETE -> Control.describeDeleted(Control.delete(spool, id.orElseThrow()));
    };
  }

  /** Hands the request to the running relay and waits up to {@link #wait} for its answer. */
  private Outcome viaRelay(Control.Action action, Optional<String> id) throws IOException, InterruptedException {
    Path dir = Control.dir(spoolDir);
    String name = Control.submit(dir, action, id);
    Path done = dir.resolve(name + Control.DONE);
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(done)) {
        String answer = Files.readString(done, StandardCharsets.UTF_8).strip();
        Files.deleteIfExists(done);
        if (answer.startsWith("ok ")) {
          return new Outcome(true, answer.substring(3));
        }
        throw new UnknownMessageException(answer.startsWith("error ") ? answer.substring(6) : answer);
      }
      Thread.sleep(POLL);
    }
    boolean withdrawn = Files.deleteIfExists(dir.resolve(name + Control.REQUEST));
    throw new IOException("the running relay did not answer within " + wait.toSeconds() + " s"
        + (withdrawn ? " (request withdrawn)" : " (it may still act on the request)"));
  }

  /**
   * The bounce class of a recipient's last reply (failed, or deferred at least once) under
   * {@code rules}; empty for a recipient delivered or not tried yet.
   */
  public static Optional<String> bounceClass(Envelope.Recipient r, BounceRules rules) {
    if (r.state() == Envelope.State.DELIVERED || r.lastReply().isEmpty()) {
      return Optional.empty();
    }
    if (Replies.isExpiry(r.lastReply())) {
      return Optional.of(BounceClass.EXPIRED.label());
    }
    Reply reply = Replies.parse(r.lastReply());
    return Optional.of(rules.classify(reply.status(), reply.text()).label());
  }

  private static String checked(String id) throws UnknownMessageException {
    if (!QueueId.isValid(id)) {
      throw unknown(id);
    }
    return id;
  }

  private static UnknownMessageException unknown(String id) {
    return new UnknownMessageException("no such message in the queue: " + id);
  }
}
