package dev.signet.smtp;

import dev.signet.config.SignetConfig;
import dev.signet.metrics.Metrics;
import dev.signet.net.IoDeadlines;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Admits sessions within {@code limits.connections} in total (over all listeners) and ends any
 * session that outlives {@code limits.session-timeout} (a client trickling bytes never trips the idle
 * timeout).
 *
 * <p>Both timeouts are kept by {@link IoDeadlines} (thread {@code smtp-io-deadlines}) on the sockets
 * {@link WatchedServerSocket} accepted: no socket read timeout and no timer task per session, which
 * on virtual threads cost two thread wake-ups per read.
 *
 * <p>Clients in {@code clients.networks} are the relay's own applications: like Postfix's
 * {@code mynetworks}, they are exempt from {@code limits.connections-per-ip} (a connection pool opens
 * many at once), and {@code limits.connections-reserved} slots are theirs alone, so strangers holding
 * connections open cannot lock them out. Everyone else gets the per-address limit, and until it
 * authenticates the short {@code limits.unauthenticated-idle-timeout}.
 *
 * <p>A session stops counting the moment it is over for the client, at the QUIT reply
 * ({@link #release}), not when its thread has finished: a pool reconnecting right after QUIT would
 * otherwise find its old sessions still counted.
 */
final class ConnectionLimiter implements SessionHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);

  private final int total;
  private final int forStrangers;
  private final int perAddress;
  private final Duration idleTimeout;
  private final Duration strangerIdleTimeout;
  private final Duration sessionTimeout;
  private final Predicate<InetAddress> trusted;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger strangers = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddressOpen = new ConcurrentHashMap<>();
  /** Sessions counted now, and whether each is a stranger's. Removed exactly once, by {@link #release}. */
  private final ConcurrentHashMap<Session, Boolean> counted = new ConcurrentHashMap<>();
  /** The watch of each admitted session's socket; removed at the session's end. */
  private final ConcurrentHashMap<Session, IoDeadlines.Watched> watched = new ConcurrentHashMap<>();
  private final IoDeadlines deadlines = new IoDeadlines("smtp-io-deadlines");

  private final Metrics metrics;
  private volatile boolean draining;

  /** @param trusted the clients in {@code clients.networks} */
  ConnectionLimiter(SignetConfig.Limits limits, Predicate<InetAddress> trusted, Metrics metrics) {
    this.metrics = metrics;
    this.total = limits.connections();
    this.forStrangers = limits.connections() - limits.connectionsReserved();
    this.perAddress = limits.connectionsPerIp();
    this.idleTimeout = limits.idleTimeout();
    this.strangerIdleTimeout = limits.unauthenticatedIdleTimeout().compareTo(idleTimeout) < 0
        ? limits.unauthenticatedIdleTimeout() : idleTimeout;
    this.sessionTimeout = limits.sessionTimeout();
    this.trusted = trusted;
  }

  /** What watches the sessions' sockets: for {@link WatchedServerSocket}. */
  IoDeadlines deadlines() {
    return deadlines;
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
    boolean stranger = !trusted.test(address);
    if (open.incrementAndGet() > total) {
      open.decrementAndGet();
      log.warn("refused connection from {}: {} connections open (limits.connections)", address.getHostAddress(), total);
      // RFC 5321 §3.1: 421 at greeting when the service is not available now.
      return SessionAcceptance.failure(421, "4.7.0 Too many connections, try again later");
    }
    if (stranger) {
      if (strangers.incrementAndGet() > forStrangers) {
        strangers.decrementAndGet();
        open.decrementAndGet();
        log.warn("refused connection from {}: {} connections open from outside clients.networks "
            + "(limits.connections minus limits.connections-reserved)", address.getHostAddress(), forStrangers);
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
        strangers.decrementAndGet();
        open.decrementAndGet();
        log.warn("refused connection from {}: {} connections open from it (limits.connections-per-ip)",
            address.getHostAddress(), perAddress);
        return SessionAcceptance.failure(421, "4.7.0 Too many connections from your address, try again later");
      }
    }
    counted.put(session, stranger);
    metrics.sessionOpened();
    // Every listener's server socket is a WatchedServerSocket, and this is the session's first socket.
    IoDeadlines.Watched w = WatchedServerSocket.watched(session.getSocket())
        .orElseThrow(() -> new IllegalStateException("a session socket WatchedServerSocket did not accept"));
    watched.put(session, w);
    idleTimeout(session);
    w.deadline(sessionTimeout, () -> log.warn("closed session from {} after limits.session-timeout ({})",
        session.getRemoteAddress().getAddress().getHostAddress(), sessionTimeout));
    return SessionAcceptance.success();
  }

  /**
   * Sets the session's idle timeout for who the client is now: {@code limits.idle-timeout} for
   * clients.networks and authenticated users, {@code limits.unauthenticated-idle-timeout} for
   * strangers before AUTH. Called at the greeting and after AUTH. STARTTLS keeps it: the limit is on
   * the watched TCP socket, which the TLS layer reads through.
   */
  void idleTimeout(Session session) {
    boolean known = trusted.test(ClientPolicy.client(session)) || ClientPolicy.user(session).isPresent();
    Duration timeout = known ? idleTimeout : strangerIdleTimeout;
    IoDeadlines.Watched w = watched.get(session);
    if (w != null) {
      w.readLimit(timeout);
    }
  }

  /** The session no longer counts against the limits (QUIT answered, or the session ended). Idempotent. */
  void release(Session session) {
    Boolean stranger = counted.remove(session);
    if (stranger == null) {
      return;
    }
    if (stranger) {
      perAddressOpen.computeIfPresent(session.getRemoteAddress().getAddress(), (a, n) -> n <= 1 ? null : n - 1);
      strangers.decrementAndGet();
    }
    open.decrementAndGet();
    metrics.sessionClosed();
  }

  @Override
  public void onSessionEnd(Session session) {
    IoDeadlines.Watched w = watched.remove(session);
    if (w != null) {
      w.close();
    }
    release(session);
  }

  /** From now on new sessions are refused with 421 4.3.2 (graceful shutdown). */
  void drain() {
    draining = true;
  }

  /** The sessions open now. */
  java.util.Set<Session> sessions() {
    return java.util.Set.copyOf(watched.keySet());
  }

  @Override
  public void close() {
    deadlines.close();
  }
}
