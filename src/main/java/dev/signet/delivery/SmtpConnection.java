package dev.signet.delivery;

import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.eclipse.angus.mail.util.MailConnectException;

/**
 * One SMTP client session to one host, over Angus's SMTPTransport: connect, greeting, EHLO with our
 * hostname, STARTTLS, AUTH. Transactions run in {@link OutboundTransaction}; the session may carry several.
 * Not thread-safe: one user at a time (the pool hands it out).
 */
final class SmtpConnection implements AutoCloseable {

  /** Why a host could not be used; the next host may do better. */
  static final class Unusable extends Exception {
    private final Reply reply;
    private final Optional<PeerTrust.Failure> tls;
    private final String localAddress;

    Unusable(Reply reply) {
      this(reply, Optional.empty());
    }

    /** @param tls for a failed TLS handshake: what failed, as an RFC 8460 result type */
    Unusable(Reply reply, Optional<PeerTrust.Failure> tls) {
      this(reply, tls, "");
    }

    private Unusable(Reply reply, Optional<PeerTrust.Failure> tls, String localAddress) {
      super(reply.text());
      this.reply = reply;
      this.tls = tls;
      this.localAddress = localAddress;
    }

    /** The local address the failed session left from (RFC 8460 sending-mta-ip); empty if it never connected. */
    String localAddress() {
      return localAddress;
    }

    Reply reply() {
      return reply;
    }

    Optional<PeerTrust.Failure> tls() {
      return tls;
    }

    /** The TLS handshake failed (as opposed to TLS missing or the host being unreachable). */
    boolean tlsFailed() {
      return reply.status().equals(TLS_FAILED);
    }
  }

  private static final String TLS_FAILED = "4.7.5"; // RFC 3463 X.7.5: cryptographic failure

  /**
   * Opportunistic TLS towards MX hosts authenticates nobody (RFC 7435: unauthenticated encryption
   * beats plaintext; RFC 3207 §4.1 leaves it to the client what level of trust it needs): encrypt
   * with whatever certificate the host presents, as MTAs without DANE or MTA-STS do.
   */
  private static final SSLSocketFactory UNVERIFIED_TLS = unverifiedTls();

  /**
   * Angus's transport with what a transaction needs of it (see {@link OutboundTransaction}): the name the
   * host gave in its EHLO reply, and its replies read one at a time.
   */
  static final class Client extends SMTPTransport {
    private String ehloName = "";

    Client(Session session, URLName url) {
      super(session, url);
    }

    @Override
    protected synchronized boolean ehlo(String domain) throws MessagingException {
      boolean ok = super.ehlo(domain);
      if (ok) { // RFC 5321 §4.1.1.1: "250-" Domain, then an optional greeting
        String response = String.valueOf(getLastServerResponse());
        ehloName = response.length() > 4 ? response.substring(4).split("\\s", 2)[0] : "";
      }
      return ok;
    }

    /** RFC 5321 §4.1.1.1: the domain at the start of the EHLO reply ("" before EHLO succeeded). */
    synchronized String ehloName() {
      return ehloName;
    }

    /**
     * The next reply: its code, or -1 when the connection ended before a whole reply ({@link
     * #getLastServerResponse} then holds what came, or "[EOF]"); its text is {@link #getLastServerResponse}.
     *
     * @throws MessagingException when reading failed (its cause is the IOException)
     */
    synchronized int reply() throws MessagingException {
      return readServerResponse();
    }
  }

  final Route route;
  final boolean utf8;
  private final Client transport;
  private final SocketCapture socket;
  private final SenderSettings settings;
  private int transactions;
  private Instant idleSince = Instant.now();

  /** The local address the session left from (RFC 8460 sending-mta-ip). */
  String localAddress() {
    return socket.localAddress();
  }

  private SmtpConnection(Route route, boolean utf8, Client transport,
      SocketCapture socket, SenderSettings settings) {
    this.route = route;
    this.utf8 = utf8;
    this.transport = transport;
    this.socket = socket;
    this.settings = settings;
  }

  /**
   * Connects and gets ready for MAIL.
   *
   * @param utf8 the session will carry an SMTPUTF8 message: its commands go out as UTF-8, MAIL with the
   *     SMTPUTF8 parameter (RFC 6531 §3.4, {@link OutboundTransaction}), so such sessions are never reused
   *     for other mail
   * @param sockets where the session's socket is registered until {@link #close}, for an abort
   */
  static SmtpConnection open(Route route, boolean utf8, String hostname, SenderSettings settings,
      ScheduledExecutorService writeTimer, SocketCapture.Registry sockets) throws Unusable {
    SocketCapture capture = sockets.capture();
    boolean opened = false;
    try {
      SmtpConnection c = connect(route, utf8, hostname, settings, writeTimer, capture);
      opened = true;
      return c;
    } catch (Unusable e) {
      Unusable located = new Unusable(e.reply(), e.tls(), capture.localAddress());
      located.setStackTrace(e.getStackTrace());
      throw located;
    } finally {
      if (!opened) {
        capture.forget();
      }
    }
  }

  private static SmtpConnection connect(Route route, boolean utf8, String hostname, SenderSettings settings,
      ScheduledExecutorService writeTimer, SocketCapture capture) throws Unusable {
    boolean implicit = route.tls() == Route.Tls.IMPLICIT;
    Properties p = new Properties();
    p.put("mail.smtp.localhost", hostname); // RFC 5321 §4.1.1.1: EHLO with our fully-qualified domain name
    p.put("mail.smtp.connectiontimeout", millis(settings.connect()));
    p.put("mail.smtp.ssl.enable", String.valueOf(implicit));
    p.put("mail.smtp.starttls.enable", String.valueOf(!implicit && route.tls() != Route.Tls.NONE));
    // Never send credentials in the clear: with AUTH configured, STARTTLS becomes mandatory.
    p.put("mail.smtp.starttls.required",
        String.valueOf(!implicit && (route.tls() == Route.Tls.REQUIRED || route.authenticates())));
    // An MX is verified against its MX name (we connect to its address) by PeerTrust, in the handshake.
    p.put("mail.smtp.ssl.checkserveridentity", String.valueOf(route.verify() && route.smarthost()));
    if (implicit) {
      // Angus makes the TCP socket itself, unwatched: it gets Angus's read and write timeouts.
      p.put("mail.smtp.timeout", millis(settings.greeting()));
      p.put("mail.smtp.writetimeout", millis(settings.dataBlock()));
      p.put("mail.smtp.executor.writetimeout", writeTimer);
    } else {
      p.put("mail.smtp.socketFactory", capture.plain(settings.greeting(), settings.dataBlock()));
    }
    p.put("mail.smtp.socketFactory.fallback", "false");
    // delivery.source-addresses: Angus binds the socket to this local address before connecting.
    route.source().ifPresent(a -> p.put("mail.smtp.localaddress", a.getHostAddress()));
    p.put("mail.smtp.ssl.socketFactory", capture.tls(!route.verify() ? UNVERIFIED_TLS
        : route.smarthost() ? settings.smarthostTls()
        : !route.tlsa().isEmpty() ? Dane.verifying(route.name(), route.tlsa())
        : settings.mxTrust().verifying(route.name())));
    p.put("mail.smtp.auth", String.valueOf(route.authenticates()));
    // Angus's own commands (EHLO, AUTH, RSET) as UTF-8 in an SMTPUTF8 session, as the transaction's.
    p.put("mail.mime.allowutf8", String.valueOf(utf8));
    p.put("mail.smtp.quitwait", "false");
    Session session = Session.getInstance(p);
    // Protocol "smtp" even for implicit TLS: the transport reads mail.smtp.* (ssl.enable above does TLS).
    Client transport = new Client(session, new URLName("smtp", route.connectHost(), route.port(), null, null, null));
    // The host calls itself by our name: the MX or smarthost leads back here, and the message would
    // go round until its header overflows. Permanent, as Postfix's "loops back to myself", and
    // decided before whatever else failed after EHLO (STARTTLS with our own certificate, AUTH).
    Unusable loop = new Unusable(Reply.about(route.name(), 554, "5.4.6",
        "mail loops back to myself: " + route + " answers EHLO as " + hostname + ", this relay's own name"));
    try {
      transport.connect(route.connectHost(), route.port(), route.username().orElse(null),
          route.password().orElse(null));
    } catch (MessagingException e) {
      if (transport.ehloName().equalsIgnoreCase(hostname)) {
        close(transport);
        throw loop;
      }
      if (e instanceof AuthenticationFailedException) {
        throw new Unusable(Reply.about(route.name(), 454, "4.7.0",
            "authentication to " + route + " failed: " + flat(transport.getLastServerResponse())));
      }
      if (e instanceof MailConnectException) {
        throw new Unusable(Reply.about(route.name(), 421, "4.4.1", "cannot connect to " + route + ": " + cause(e)));
      }
      throw new Unusable(whyUnusable(route, transport, e),
          has(e, SSLException.class) ? Optional.of(PeerTrust.classify(e)) : Optional.empty());
    }
    if (transport.ehloName().equalsIgnoreCase(hostname)) {
      close(transport);
      throw loop;
    }
    if (route.authenticates() && !transport.supportsExtension("AUTH")) {
      close(transport);
      throw new Unusable(Reply.about(route.name(), 454, "4.7.0",
          route + " does not offer AUTH, but credentials are configured for it"));
    }
    return new SmtpConnection(route, utf8, transport, capture, settings);
  }

  private static Reply whyUnusable(Route route, Client transport, MessagingException e) {
    String text = String.valueOf(e.getMessage());
    if (text.startsWith("Got bad greeting")) {
      // RFC 5321 §3.1: a 554 (or 421) greeting refuses the session; try the next host.
      return Reply.remote(transport.getLastReturnCode(), transport.getLastServerResponse(), route.name());
    }
    if (text.startsWith("STARTTLS is required")) {
      return Reply.about(route.name(), 421, "4.7.4", "TLS is required, but " + route + " does not offer STARTTLS");
    }
    if (has(e, SocketTimeoutException.class)) {
      return Reply.about(route.name(), 421, "4.4.2", "timeout talking to " + route + ": " + text);
    }
    if (has(e, SSLException.class)) {
      return Reply.about(route.name(), 421, TLS_FAILED, "TLS with " + route + " failed: " + cause(e));
    }
    return Reply.about(route.name(), 421, "4.4.2", "session with " + route + " failed: " + cause(e));
  }

  Client transport() {
    return transport;
  }

  /** Writes to the host, past Angus (see {@link SocketCapture#output}); for a transaction's commands and data. */
  java.io.OutputStream output() throws java.io.IOException {
    return socket.output();
  }

  /** The read timeout for the next phase of the transaction. */
  void readTimeout(Duration timeout) {
    socket.readTimeout(timeout);
  }

  SenderSettings settings() {
    return settings;
  }

  boolean supports(String extension) {
    return transport.supportsExtension(extension);
  }

  String extensionParameter(String extension) {
    return transport.getExtensionParameter(extension);
  }

  /** The TLS session (implicit or after STARTTLS), if any. */
  java.util.Optional<javax.net.ssl.SSLSession> tlsSession() {
    return socket.tlsSession();
  }

  /** Whether the session runs over TLS (implicit or after STARTTLS). */
  boolean tls() {
    return socket.tls();
  }

  void transactionDone() {
    transactions++;
    idleSince = Instant.now();
  }

  /** Fit to carry one more message: not idle too long, not worn out (then {@link #reset} asks the server). */
  boolean reusable(Instant now) {
    return transactions < settings.reuseMessages() && !idleSince.plus(settings.reuseIdle()).isBefore(now);
  }

  /** RFC 5321 §4.1.1.5: RSET between messages on a reused connection; false if the server is gone. */
  boolean reset() {
    readTimeout(settings.command());
    try {
      transport.issueCommand("RSET", 250);
      return true;
    } catch (MessagingException e) {
      return false;
    }
  }

  @Override
  public void close() {
    close(transport);
    socket.forget();
  }

  private static void close(SMTPTransport transport) {
    try {
      transport.close(); // QUIT without waiting for 221 (mail.smtp.quitwait=false)
    } catch (MessagingException e) {
      // the connection is gone either way
    }
  }

  static boolean has(Throwable e, Class<? extends Throwable> type) {
    // MessagingException.getCause() is its next exception, so this walks both kinds of chain.
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  static String cause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }

  private static final java.util.regex.Pattern LINE_BREAK = java.util.regex.Pattern.compile("\\s*\\R\\s*");

  /** A (multi-line) response as one line: each line break and the white space around it become one space. */
  static String flat(String response) {
    if (response == null) {
      return "";
    }
    String text = response.strip();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if ((c >= '\n' && c <= '\r') || c == '\u0085' || c == '\u2028' || c == '\u2029') { // what \R matches
        return LINE_BREAK.matcher(text).replaceAll(" ");
      }
    }
    return text; // one line, the usual case: no regex
  }

  private static String millis(Duration d) {
    return String.valueOf(Math.min(Integer.MAX_VALUE, d.toMillis()));
  }

  private static SSLSocketFactory unverifiedTls() {
    TrustManager acceptAny = new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {acceptAny}, null);
      return context.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS in this JVM", e);
    }
  }
}
