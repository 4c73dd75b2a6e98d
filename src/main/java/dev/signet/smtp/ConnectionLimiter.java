package dev.signet.smtp;

import dev.signet.metrics.Metrics;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Admits sessions within {@code limits.connections} in total (over all listeners) and
 * {@code limits.connections-per-ip} per client address, and ends any session that outlives
 * {@code limits.session-timeout} (a client trickling bytes never trips the idle timeout).
 */
final class ConnectionLimiter implements SessionHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);

  private final int total;
  private final int perAddress;
  private final Duration sessionTimeout;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddressOpen = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Session, ScheduledFuture<?>> deadlines = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      r -> Thread.ofPlatform().daemon().name("smtp-session-timeout").unstarted(r));

  private final Metrics metrics;
  private volatile boolean draining;

  ConnectionLimiter(int total, int perAddress, Duration sessionTimeout, Metrics metrics) {
    this.metrics = metrics;
    this.total = total;
    this.perAddress = perAddress;
    this.sessionTimeout = sessionTimeout;
  }

  int open() {
    return open.get();
  }

  @Override
  public SessionAcceptance accept(Session session) {
    InetAddress address = session.getRemoteAddress().getAddress();
    if (draining) {
      // RFC 5321 §3.8: a server shutting down answers 421; RFC 3463 §3.4: 4.3.2 "system not accepting messages".
      return SessionAcceptance.failure(421, "4.3.2 Service shutting down, try again later");
    }
    if (open.incrementAndGet() > total) {
      open.decrementAndGet();
      log.warn("refused connection from {}: {} connections open (limits.connections)", address.getHostAddress(), total);
      // RFC 5321 §3.1: 421 at greeting when the service is not available now.
      return SessionAcceptance.failure(421, "4.7.0 Too many connections, try again later");
    }
    boolean[] admitted = {true};
    perAddressOpen.compute(address, (a, n) -> {
      int count = n == null ? 0 : n;
      if (count >= perAddress) {
        admitted[0] = false;
        return n;
      }
      return count + 1;
    });
    if (!admitted[0]) {
      open.decrementAndGet();
      log.warn("refused connection from {}: {} connections open from it (limits.connections-per-ip)",
          address.getHostAddress(), perAddress);
      return SessionAcceptance.failure(421, "4.7.0 Too many connections from your address, try again later");
    }
    metrics.sessionOpened();
    deadlines.put(session, timer.schedule(() -> expire(session), sessionTimeout.toMillis(), TimeUnit.MILLISECONDS));
    return SessionAcceptance.success();
  }

  private void expire(Session session) {
    log.warn("closing session from {} after limits.session-timeout ({})",
        session.getRemoteAddress().getAddress().getHostAddress(), sessionTimeout);
    try {
      // Closing the socket wakes the session thread out of its read; it then ends the session.
      session.closeSocket();
    } catch (IOException e) {
      log.debug("closing timed-out session", e);
    }
  }

  @Override
  public void onSessionEnd(Session session) {
    ScheduledFuture<?> deadline = deadlines.remove(session);
    if (deadline != null) {
      deadline.cancel(false);
    }
    open.decrementAndGet();
    metrics.sessionClosed();
    perAddressOpen.computeIfPresent(session.getRemoteAddress().getAddress(), (a, n) -> n <= 1 ? null : n - 1);
  }

  /** From now on new sessions are refused with 421 4.3.2 (graceful shutdown). */
  void drain() {
    draining = true;
  }

  /** The sessions open now. */
  java.util.Set<Session> sessions() {
    return java.util.Set.copyOf(deadlines.keySet());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
