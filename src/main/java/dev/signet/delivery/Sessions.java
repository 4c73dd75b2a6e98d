package dev.signet.delivery;

import dev.signet.net.IoDeadlines;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Lease;
import dev.signet.shaping.Shaping;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbound SMTP sessions within their shaping group's connection budget: a kept session of the
 * group is reused when there is one (idle sessions over a lowered limit are closed first); otherwise
 * a {@link Lease} on one of the group's connections is taken (closing an idle session of the group to
 * make room) and a new session opened, once more in plaintext when opportunistic STARTTLS fails in the
 * handshake. After its transaction a session is kept in the {@link ConnectionPool}, lease and all, or
 * closed. Owns the {@code signet-smtp-timer} thread (idle sweeps; write timeouts with implicit TLS),
 * the {@code signet-smtp-deadlines} thread (read and write limits, {@link IoDeadlines}) and the
 * registry that lets a stopping relay cut every session.
 */
final class Sessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);

  private final String hostname;
  private final SenderSettings settings;
  private final Shaping shaping;
  private final ScheduledExecutorService timer;
  private final ConnectionPool pool = new ConnectionPool();
  private final IoDeadlines deadlines = new IoDeadlines("signet-smtp-deadlines");
  private final SocketCapture.Registry sockets = new SocketCapture.Registry(deadlines);

  Sessions(String hostname, SenderSettings settings, Shaping shaping) {
    this.hostname = hostname;
    this.settings = settings;
    this.shaping = shaping;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("signet-smtp-timer").daemon().unstarted(r));
    long sweep = Math.max(100, settings.reuseIdle().toMillis());
    timer.scheduleWithFixedDelay(() -> pool.closeIdle(settings), sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code task} every {@code period} on the timer thread (which must not block: start a thread). */
  void every(Duration period, Runnable task) {
    timer.scheduleWithFixedDelay(task, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether {@link #abort} ran: no session may start any more. */
  boolean aborted() {
    return sockets.aborted();
  }

  /**
   * A kept session of {@code destination}'s group to {@code route} that still answers, or null. Idle
   * sessions over the group's connections (a backoff rule lowered them) are closed first.
   */
  ConnectionPool.Kept kept(Destination destination, Route route, boolean utf8) {
    while (shaping.excess(destination) && pool.closeOneIdle(destination.group())) {
      // a backoff rule lowered the group's connections: idle sessions over the limit go first
    }
    ConnectionPool.Kept kept = pool.take(destination.group(), route, utf8);
    if (kept != null && shaping.excess(destination)) {
      kept.close();
      kept = null;
    }
    return kept;
  }

  /**
   * A new session to {@code route} with a place in the group's connections; empty when the group has
   * none to spare (the caller holds the delivery back).
   *
   * @param unusable gets the reason when the host cannot be used, before its place is given back (a 421
   *     greeting must reach the backoff rules before another delivery can take that place)
   * @throws SmtpConnection.Unusable when the host cannot be used (its place is given back)
   */
  Optional<ConnectionPool.Kept> fresh(Destination destination, Route route, boolean utf8,
      Consumer<SmtpConnection.Unusable> unusable) throws SmtpConnection.Unusable {
    Optional<Lease> lease = shaping.open(destination);
    if (lease.isEmpty() && pool.closeOneIdle(destination.group())) {
      lease = shaping.open(destination);
    }
    if (lease.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new ConnectionPool.Kept(open(route, utf8), lease.get()));
    } catch (SmtpConnection.Unusable e) {
      try {
        unusable.accept(e);
      } finally {
        lease.get().close();
      }
      throw e;
    }
  }

  /**
   * Connects; when opportunistic STARTTLS fails in the handshake, once more in plaintext: with
   * opportunistic TLS plaintext is acceptable, so a broken TLS stack at the receiver must not keep
   * the mail from going out (as Postfix does at security level "may").
   */
  private SmtpConnection open(Route route, boolean utf8) throws SmtpConnection.Unusable {
    try {
      return SmtpConnection.open(route, utf8, hostname, settings, timer, sockets);
    } catch (SmtpConnection.Unusable e) {
      if (!e.tlsFailed() || route.tls() != Route.Tls.OPPORTUNISTIC || route.verify()) {
        throw e;
      }
      log.info("host={} TLS handshake failed, retrying without TLS: {}", route, e.reply().text());
      return SmtpConnection.open(route.plaintext(), utf8, hostname, settings, timer, sockets);
    }
  }

  /**
   * One transaction; {@code seen} gets its outcome first (the backoff rules see the server's replies
   * while the connection still holds its place, so a suspension a 421 starts is in force before another
   * delivery can take that place); then the connection is kept for the next message (with its place in
   * the group's connections) or closed (giving the place back).
   */
  OutboundTransaction.Attempt run(ConnectionPool.Kept session, DeliveryRequest request, MessageFile file,
      boolean utf8, Destination destination, Consumer<OutboundTransaction.Attempt> seen) {
    SmtpConnection connection = session.connection();
    OutboundTransaction.Attempt attempt = OutboundTransaction.run(connection, request, file);
    session.lease().sent();
    seen.accept(attempt);
    if (attempt.reusable() && !utf8 && session.lease().reusable() && !shaping.excess(destination)) {
      connection.transactionDone();
      pool.give(destination.group(), connection, session.lease());
    } else {
      session.close();
    }
    return attempt;
  }

  /** Closes the socket of every session, idle or in a transaction; none starts afterwards. */
  void abort() {
    sockets.abortAll();
  }

  @Override
  public void close() {
    pool.closeAll(); // first: QUIT writes still need the timer (mail.smtp.writetimeout) and the deadlines
    timer.shutdownNow();
    deadlines.close();
  }
}
