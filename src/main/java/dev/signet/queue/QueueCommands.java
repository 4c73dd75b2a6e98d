package dev.signet.queue;

import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The queue commands of a running relay (its admin API calls them): flush, retry, delete. Each acts on
 * the spool under the message's lock, as delivery outcomes are written, and tells the scheduler.
 * {@link QueueControl} does the same on a stopped relay's spool and holds what both do.
 */
public final class QueueCommands {
  private static final Logger log = LoggerFactory.getLogger(QueueCommands.class);

  private final Spool spool;
  private final MessageLocks locks;
  private final Scheduler scheduler;
  private final QueueGauges gauges;
  private final Clock clock;

  QueueCommands(Spool spool, MessageLocks locks, Scheduler scheduler, QueueGauges gauges, Clock clock) {
    this.spool = spool;
    this.locks = locks;
    this.scheduler = scheduler;
    this.gauges = gauges;
    this.clock = clock;
  }

  /** Makes every pending recipient of every queued message due now; returns how many messages. */
  public int flush() throws IOException, InterruptedException {
    int n = 0;
    for (Envelope e : spool.list()) {
      if (retryNow(e.id())) {
        n++;
      }
    }
    log.info("queue: flushed {} message(s)", n);
    return n;
  }

  /** Makes the pending recipients of {@code id} due now; false if there is no such message. */
  public boolean retry(String id) throws IOException, InterruptedException {
    boolean found = QueueId.isValid(id) && retryNow(id);
    if (found) {
      MDC.put("qid", id);
      log.info("queue: retry requested");
      MDC.remove("qid");
    }
    return found;
  }

  /**
   * Removes {@code id} from the queue without a bounce (an attempt under way finds it gone and
   * records nothing); empty if there is no such message.
   */
  @SuppressWarnings("try") // the resource is the message lock, held for the block
  public Optional<Envelope> delete(String id) throws IOException, InterruptedException {
    if (!QueueId.isValid(id)) {
      return Optional.empty();
    }
    try (MessageLocks.Held held = locks.lock(id)) {
      Envelope deleted = QueueControl.deleteFrom(spool, id);
      gauges.gone(deleted.id());
      MDC.put("qid", id);
      log.info("queue: {}", QueueControl.describeDeleted(deleted));
      MDC.remove("qid");
      return Optional.of(deleted);
    } catch (QueueControl.UnknownMessageException e) {
      return Optional.empty();
    }
  }

  @SuppressWarnings("try")
  private boolean retryNow(String id) throws IOException, InterruptedException {
    Envelope updated;
    try (MessageLocks.Held held = locks.lock(id)) {
      updated = QueueControl.retryNow(spool, id, clock.instant());
    } catch (QueueControl.UnknownMessageException e) {
      return false;
    }
    scheduler.submitted(updated);
    return true;
  }
}
