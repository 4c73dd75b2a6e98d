package dev.signet.smtp;

import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig;
import dev.signet.events.Events;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The submission side of the relay (docs/ARCHITECTURE.md, package `smtp`): SubEthaSMTP listening on
 * {@code listen.submission} (STARTTLS when {@code tls.*} is set) and optionally on
 * {@code listen.smtps} (implicit TLS, RFC 8314), with Signet's own EHLO, AUTH, MAIL, RCPT, DATA and
 * BDAT commands. Every accepted message is signed and in the {@link Spool} before its 250.
 */
public final class SubmissionServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SubmissionServer.class);

  private final SignetConfig config;
  private final Optional<Tls> tls;
  private final ClientPolicy policy;
  private final ConnectionLimiter limiter;
  private final MessageReceiver receiver;
  private final AuthThrottle throttle;
  private final SuppressionGate suppression;
  private final Metrics metrics;
  private final List<SMTPServer> servers = new ArrayList<>();
  private final List<InetSocketAddress> addresses = new ArrayList<>();

  /**
   * Reads the TLS certificate and the users file named in {@code config}.
   *
   * @throws IOException naming the file at fault
   */
  public SubmissionServer(SignetConfig config, Submission submission, Spool spool, Metrics metrics) throws IOException {
    this(config, submission, spool, metrics, null);
  }

  /** @param events gets the accepted (and suppressed) events and holds the suppression list; may be null */
  public SubmissionServer(SignetConfig config, Submission submission, Spool spool, Metrics metrics, Events events)
      throws IOException {
    this(config, submission, spool, metrics, AuthThrottle.DEFAULT, InetAddress::isLoopbackAddress, Clock.systemUTC(),
        events);
  }

  SubmissionServer(SignetConfig config, Submission submission, Spool spool, Metrics metrics, AuthThrottle throttle,
      Predicate<InetAddress> local, Clock clock) throws IOException {
    this(config, submission, spool, metrics, throttle, local, clock, null);
  }

  /** @param local which clients count as local (may AUTH without TLS); tests narrow loopback to 127.0.0.1 */
  SubmissionServer(SignetConfig config, Submission submission, Spool spool, Metrics metrics, AuthThrottle throttle,
      Predicate<InetAddress> local, Clock clock, Events events) throws IOException {
    this.config = config;
    this.metrics = metrics;
    this.throttle = throttle;
    SignetConfig.Tls tlsConfig = config.tls();
    this.tls = tlsConfig.enabled()
        ? Optional.of(Tls.load(tlsConfig.certificate().get(), tlsConfig.key().get()))
        : Optional.empty();
    if (config.listen().smtps().isPresent() && tls.isEmpty()) {
      throw new IOException("listen.smtps needs tls.certificate and tls.key");
    }
    Users users = config.clients().users().isPresent() ? Users.load(config.clients().users().get()) : Users.none();
    this.policy = new ClientPolicy(config.clients().networks(), users, tls.isPresent(), local);
    SignetConfig.Limits limits = config.limits();
    this.limiter = new ConnectionLimiter(limits, policy::trusted, metrics);
    spool.sessions(limiter::open);
    this.suppression = new SuppressionGate(events, clock);
    this.receiver = new MessageReceiver(submission, spool, limits.messageSize(), metrics, clock, suppression);
  }

  /** Binds the listeners; on return they accept connections. */
  public synchronized void start() throws IOException {
    if (!servers.isEmpty()) {
      throw new IllegalStateException("already started");
    }
    try {
      servers.add(listen(config.listen().submission(), false));
      if (config.listen().smtps().isPresent()) {
        servers.add(listen(config.listen().smtps().get(), true));
      }
    } catch (RuntimeException e) {
      close();
      // SMTPServer.start wraps the bind failure (address in use, no such address)
      throw new IOException("cannot listen: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
    }
    for (SMTPServer server : servers) {
      InetSocketAddress bound = new InetSocketAddress(server.getBindAddress().orElseThrow(), server.getPortAllocated());
      addresses.add(bound);
    }
    log.info("submission: listening on {}{}; TLS {}; AUTH {}; relay without AUTH from {}; message size limit {} bytes",
        addresses.get(0), addresses.size() > 1 ? " and " + addresses.get(1) + " (implicit TLS)" : "",
        tls.map(t -> "with " + t.subject() + " " + t.protocols()).orElse("off (no tls.certificate)"),
        policy.users().isEmpty() ? "off (no clients.users)" : policy.users().size() + " users",
        config.clients().networks(), config.limits().messageSize());
  }

  private SMTPServer listen(HostPort at, boolean implicitTls) throws IOException {
    SignetConfig.Limits limits = config.limits();
    SMTPServer.Builder builder = SMTPServer.port(at.port())
        .bindAddress(InetAddress.getByName(at.host()))
        .hostName(config.hostname())
        .softwareName("Signet")
        .messageHandlerFactory(receiver)
        .sessionHandler(limiter)
        // ConnectionLimiter counts over all listeners and answers 421 4.7.0; SubEthaSMTP's own
        // limit (421 without enhanced code) sits well above it: a connection the limiter refused
        // still counts there until its thread has ended, so a client that reconnects at once would
        // otherwise meet the plain 421 (seen as a flaky ConnectionLimitsTest).
        .maxConnections((int) Math.min(Integer.MAX_VALUE, 2L * limits.connections() + 1))
        // No socket read timeout: ConnectionLimiter keeps the idle timeout on the watched socket.
        .connectionTimeoutMs(0)
        .maxRecipients(limits.recipients())
        .maxMessageSize((int) Math.min(Integer.MAX_VALUE, limits.messageSize()))
        .insertReceivedHeaders(false) // the message pipeline writes the Received field
        .executorService(Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("smtp-" + at.port() + "-", 0).factory()));
    if (tls.isPresent()) {
      builder.enableTLS(!implicitTls).startTlsSocketFactory(tls.get()::wrap);
    }
    Tls layered = implicitTls ? tls.orElseThrow() : null;
    builder.serverSocketFactory(() -> new WatchedServerSocket(limiter.deadlines(), layered));
    SMTPServer server = builder.build();
    var commands = server.getCommandHandler();
    commands.addCommand(new EnvelopeCommands.Ehlo(config.hostname(), limits.messageSize(), policy));
    commands.addCommand(new EnvelopeCommands.Mail(limits.messageSize(), policy));
    commands.addCommand(new EnvelopeCommands.Rcpt(limits.recipients(),
        config.delivery().addressLiterals() == SignetConfig.AddressLiterals.ALLOW, suppression));
    commands.addCommand(new AuthCommand(policy, throttle, metrics, limiter::idleTimeout));
    commands.addCommand(new TransportCommands.Quit(limiter));
    commands.addCommand(new DataCommands.Data(receiver));
    commands.addCommand(new DataCommands.Chunk(receiver));
    server.start();
    return server;
  }

  /** The bound listener addresses: submission first, then smtps if configured. */
  public synchronized List<InetSocketAddress> addresses() {
    return List.copyOf(addresses);
  }

  /** For {@code /healthz}: empty while every listener runs, otherwise the problem. */
  public synchronized Optional<String> listening() {
    if (servers.isEmpty()) {
      return Optional.of("not listening (stopped or not started)");
    }
    for (int i = 0; i < servers.size(); i++) {
      if (!servers.get(i).isRunning()) {
        return Optional.of("listener " + addresses.get(i) + " is down");
      }
    }
    return Optional.empty();
  }

  /**
   * Graceful stop (RFC 5321 §3.8): new sessions get 421 4.3.2; a session in the middle of a mail
   * transaction may finish it (its message signed, spooled and answered) for up to {@code grace};
   * every session between transactions gets 421 4.3.2 and is closed. Then {@link #close}. A message
   * answered 250 is already fsynced in the spool, so whatever is cut off here was never acknowledged.
   *
   * @return the sessions still in a transaction when {@code grace} ran out (closed without a reply)
   */
  public int shutdown(Duration grace) {
    limiter.drain();
    long deadline = System.nanoTime() + grace.toNanos();
    java.util.Set<org.subethamail.smtp.server.Session> told = new java.util.HashSet<>();
    int busy;
    while (true) {
      busy = 0;
      for (org.subethamail.smtp.server.Session session : limiter.sessions()) {
        if (session.isMailTransactionInProgress()) {
          busy++;
        } else if (told.add(session)) {
          try {
            session.sendResponse("421 4.3.2 Service shutting down, closing transmission channel");
            session.closeSocket();
          } catch (IOException e) {
            log.debug("closing an idle session at shutdown: {}", e.toString());
          }
        }
      }
      if (busy == 0 || System.nanoTime() >= deadline) {
        break;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (busy > 0) {
      log.warn("submission: {} session(s) still in a transaction after {}; closing them unanswered", busy, grace);
    }
    close();
    return busy;
  }

  /** Stops accepting, closes every session and waits for their threads. */
  @Override
  public synchronized void close() {
    for (SMTPServer server : servers) {
      server.stop();
    }
    servers.clear();
    limiter.close();
  }

  /**
   * A {@code clients.users} line for {@code name}: {@code name:bcrypt-hash:domains}. For
   * {@code signet user add}.
   */
  public static String usersFileLine(String name, char[] password, List<String> domains) {
    if (name.isEmpty() || name.chars().anyMatch(c -> c == ':' || Character.isWhitespace(c))) {
      throw new IllegalArgumentException("a user name may not be empty or contain ':' or spaces: '" + name + "'");
    }
    if (domains.isEmpty()) {
      throw new IllegalArgumentException("--domains: a user needs at least one domain");
    }
    return Users.line(name, password, Users.domains(domains, "--domains: "), Users.DEFAULT_COST);
  }
}
