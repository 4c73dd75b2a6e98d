package dev.signet.smtp;

import dev.signet.metrics.Metrics;
import dev.signet.smtp.Users.User;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.AuthenticationHandler;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * AUTH PLAIN (RFC 4616) and LOGIN against {@code clients.users}, offered only where
 * {@link ClientPolicy#authOffered} says (SubEthaSMTP's own AUTH checks neither TLS nor the client).
 * Every failure is logged, delayed and counted ({@link AuthThrottle}).
 */
final class AuthCommand extends BaseCommand {
  private static final Logger log = LoggerFactory.getLogger(AuthCommand.class);

  private final ClientPolicy policy;
  private final AuthThrottle throttle;
  private final Map<Session, Integer> failures = Collections.synchronizedMap(new WeakHashMap<>());

  private final Metrics metrics;

  private final java.util.function.Consumer<Session> authenticated;

  /** @param authenticated told of each session that authenticated (its idle timeout changes) */
  AuthCommand(ClientPolicy policy, AuthThrottle throttle, Metrics metrics,
      java.util.function.Consumer<Session> authenticated) {
    super("AUTH", "Authenticate.", "PLAIN|LOGIN [initial-response]");
    this.authenticated = authenticated;
    this.metrics = metrics;
    this.policy = policy;
    this.throttle = throttle;
  }

  /**
   * What SubEthaSMTP keeps as the session's identity once AUTH succeeded, bound to the socket it was
   * given on. SubEthaSMTP has no way to forget it; STARTTLS replaces the session's socket, so an
   * identity from before the handshake no longer counts (RFC 3207 §4.2), see {@link ClientPolicy#user}.
   */
  record Authenticated(User user, java.net.Socket socket) implements AuthenticationHandler {
    @Override
    public Optional<String> auth(String clientInput, MessageContext context) {
      throw new IllegalStateException("already authenticated");
    }

    @Override
    public Object getIdentity() {
      return user;
    }
  }

  /** The client cancelled with "*" (RFC 4954 §4), or sent something that is not base64. */
  private static final class Abort extends Exception {
    Abort(String reply) {
      super(reply, null, false, false);
    }
  }

  @Override
  public void execute(String command, Session sess) throws IOException, DropConnectionException {
    InetAddress client = ClientPolicy.client(sess);
    String[] args = getArgs(command);
    if (!policy.authOffered(sess)) {
      sess.sendResponse(policy.users().isEmpty()
          ? "502 5.5.1 AUTH not available: no clients.users configured"
          : "538 5.7.11 Encryption required for requested authentication mechanism"); // RFC 4954 §6
      return;
    }
    if (sess.getHelo().isEmpty()) {
      // RFC 4954 §4: AUTH is an extension announced by EHLO; before it (or after STARTTLS reset the session) there is none.
      sess.sendResponse("503 5.5.1 Send EHLO first");
      return;
    }
    if (ClientPolicy.user(sess).isPresent()) {
      sess.sendResponse("503 5.5.1 Already authenticated");
      return;
    }
    if (sess.isMailTransactionInProgress()) {
      sess.sendResponse("503 5.5.1 AUTH not permitted during a mail transaction"); // RFC 4954 §4
      return;
    }
    if (args.length < 2 || args.length > 3) {
      sess.sendResponse("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
      return;
    }
    String mechanism = args[1].toUpperCase(Locale.ROOT);
    if (!mechanism.equals("PLAIN") && !mechanism.equals("LOGIN")) {
      sess.sendResponse("504 5.5.4 Unrecognized authentication type");
      return;
    }
    if (throttle.blocked(client)) {
      log.warn("auth refused: client={} has too many recent AUTH failures", client.getHostAddress());
      throw new DropConnectionException(421, "4.7.0 Too many authentication failures, try again later");
    }
    String name;
    String password;
    try {
      Optional<String> initial = args.length == 3 ? Optional.of(args[2]) : Optional.empty();
      if (mechanism.equals("PLAIN")) {
        // RFC 4616 §2: [authzid] NUL authcid NUL passwd
        String message = decode(initial.isPresent() ? initial.get() : challenge(sess, ""));
        String[] parts = message.split("\0", -1);
        if (parts.length != 3) {
          throw new Abort("501 5.5.2 Malformed PLAIN response");
        }
        if (!parts[0].isEmpty() && !parts[0].equals(parts[1])) {
          throw new Abort("535 5.7.8 Authorization identity must be empty or equal the user name");
        }
        name = parts[1];
        password = parts[2];
      } else {
        name = decode(initial.isPresent() ? initial.get() : challenge(sess, "Username:"));
        password = decode(challenge(sess, "Password:"));
      }
    } catch (Abort e) {
      sess.sendResponse(e.getMessage());
      return;
    }
    Optional<User> user = policy.users().verify(name, password);
    if (user.isPresent()) {
      sess.setAuthenticationHandler(new Authenticated(user.get(), sess.getSocket()));
      authenticated.accept(sess);
      log.info("auth ok: user={} client={} mechanism={}", name, client.getHostAddress(), mechanism);
      sess.sendResponse("235 2.7.0 Authentication successful");
      return;
    }
    int count = failures.merge(sess, 1, Integer::sum);
    metrics.authFailure();
    log.warn("auth failed: user={} client={} mechanism={} failures-on-connection={}",
        printable(name), client.getHostAddress(), mechanism, count);
    boolean drop;
    try {
      drop = throttle.failed(client, count);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drop = true;
    }
    if (drop) {
      throw new DropConnectionException(421, "4.7.0 Too many authentication failures, closing connection");
    }
    sess.sendResponse("535 5.7.8 Authentication credentials invalid"); // RFC 4954 §6
  }

  /** Sends a 334 challenge and reads the client's line. */
  private static String challenge(Session sess, String prompt) throws IOException, Abort {
    sess.sendResponse("334 " + Base64.getEncoder().encodeToString(prompt.getBytes(StandardCharsets.US_ASCII)));
    String line = sess.getReader().readLine();
    if (line == null) {
      throw new IOException("client closed the connection during AUTH");
    }
    if (line.trim().equals("*")) {
      throw new Abort("501 5.0.0 Authentication cancelled");
    }
    return line.trim();
  }

  private static String decode(String base64) throws Abort {
    try {
      byte[] bytes = base64.equals("=") ? new byte[0] : Base64.getDecoder().decode(base64);
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (IllegalArgumentException | CharacterCodingException e) {
      throw new Abort("501 5.5.2 Cannot decode response");
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return cut.replaceAll("[\\p{Cntrl}]", "?");
  }
}
