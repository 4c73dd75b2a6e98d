package dev.signet.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The receiving MX of every test, written on plain sockets so that every step can be scripted: the
 * reply to any command (GREETING, EHLO, MAIL, RCPT, DATA, "." for the end of data), per recipient
 * replies (always, or a script used up one RCPT at a time), a delay before any reply (changeable while
 * a session waits, and noticing a client that gives up), a session cut in the middle of DATA, the
 * EHLO extensions offered, a message size limit, an idle timeout, a silent server, STARTTLS or
 * implicit TLS with a {@link TestCa} certificate (or a broken STARTTLS), and AUTH PLAIN/LOGIN. It
 * records each accepted transaction with the facts of its session (TLS protocol, SNI name,
 * authenticated user, peer address) and counts what tests of concurrency and shaping look at. Like a
 * real server it closes a session after any 421 (RFC 5321 §3.8) and, offering PIPELINING by default,
 * refuses RCPT before MAIL and DATA without a recipient with 503 (RFC 2920 §3.1); it notes MAIL commands
 * a client sent more after without waiting ({@link #mailWithMoreBehind}).
 *
 * <pre>
 * try (ScriptedMx mx = ScriptedMx.start("127.0.0.2", port).starttls(ca.issue("mx1.dest.test"))) {
 *   mx.reply("RCPT", "451 4.3.0 try later");
 *   ...
 * }
 * </pre>
 */
public final class ScriptedMx implements AutoCloseable {

  /** The longest a {@link #hold held} reply waits, whatever the test forgot to say. */
  private static final Duration HOLD = Duration.ofMinutes(2);

  /** One accepted transaction: data as received (dot-unstuffed, byte for byte), and the session's facts. */
  public record Received(String from, List<String> recipients, byte[] data, Optional<String> tlsProtocol,
      Optional<String> sni, Optional<String> user, InetAddress peer, long arrivedNanos) {
    public boolean tls() {
      return tlsProtocol.isPresent();
    }

    /** The data read as UTF-8. */
    public String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** One recipient's copy of an accepted message: what that recipient's mailbox gets. */
  public record Copy(String from, String recipient, byte[] data) {
    /** The data read as UTF-8. */
    public String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  private final ServerSocket server;
  private final Map<String, String> replies = new ConcurrentHashMap<>();
  private final Map<String, Duration> delays = new ConcurrentHashMap<>();
  private final Map<String, String> refusedRecipients = new ConcurrentHashMap<>();
  private final Map<String, Deque<String>> rcptScripts = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sessions = new AtomicInteger();
  private final AtomicInteger openSessions = new AtomicInteger();
  private final AtomicInteger maxOpenSessions = new AtomicInteger();
  private final AtomicInteger handshakes = new AtomicInteger();
  private final AtomicInteger rcptCommands = new AtomicInteger();
  private final AtomicInteger refusedMail = new AtomicInteger();
  private final List<Long> refusals = new CopyOnWriteArrayList<>();
  private final List<Long> connected = new CopyOnWriteArrayList<>();
  private final List<Long> refusedGreetings = new CopyOnWriteArrayList<>();
  private final AtomicInteger inData = new AtomicInteger();
  private final AtomicInteger maxInData = new AtomicInteger();
  private final AtomicInteger dataEnded = new AtomicInteger();
  private final AtomicInteger cutOff = new AtomicInteger();
  private final AtomicInteger mailWithMoreBehind = new AtomicInteger();
  private volatile boolean dataWithoutRecipients;
  private volatile SSLContext tls;
  private volatile SSLContext implicitTls;
  private volatile boolean brokenTls;
  private volatile List<String> extensions = List.of("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 100000000");
  private volatile long maxSize;
  private volatile String user;
  private volatile String password;
  private volatile int idleMillis = 30_000;
  private volatile boolean silent;
  private volatile boolean stampReceived;
  private volatile String hostName = "scripted.test";
  private volatile int sessionLimit = Integer.MAX_VALUE;
  private volatile String sessionLimitReply;
  private volatile boolean dropInData;
  private volatile boolean closed;
  private final Thread acceptor;

  private ScriptedMx(ServerSocket server) {
    this.server = server;
    this.acceptor = Thread.ofPlatform().daemon().name("scripted-mx-accept").start(this::acceptLoop);
  }

  /** Listens on {@code address}:{@code port} (port 0 = any free port). */
  public static ScriptedMx start(String address, int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getByName(address), port));
    return new ScriptedMx(server);
  }

  /** A port free on 127.0.0.1 at the moment, for servers bound to 127.0.0.x with one shared port. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  /** Offer STARTTLS, presenting {@code certificate}; without this call STARTTLS is not offered. */
  public ScriptedMx starttls(TestCa.Leaf certificate) {
    this.tls = certificate.serverContext();
    return this;
  }

  /** TLS from the first byte (port 465 style), presenting {@code certificate}. */
  public ScriptedMx implicitTls(TestCa.Leaf certificate) {
    this.implicitTls = certificate.serverContext();
    return this;
  }

  /** Offer STARTTLS, agree to it, then answer the handshake with plain text and hang up. */
  public ScriptedMx brokenStarttls() {
    this.brokenTls = true;
    return this;
  }

  /**
   * Offer exactly these EHLO extensions (default: PIPELINING, 8BITMIME, SMTPUTF8, SIZE 100000000);
   * STARTTLS and AUTH are added when configured.
   */
  public ScriptedMx extensions(String... offered) {
    this.extensions = List.of(offered);
    return this;
  }

  /** Offer SIZE {@code octets} and refuse (552 5.3.4) a MAIL declaring more, or data longer than that. */
  public ScriptedMx maxSize(long octets) {
    this.maxSize = octets;
    List<String> without = new ArrayList<>(extensions.stream().filter(e -> !e.startsWith("SIZE")).toList());
    without.add("SIZE " + octets);
    this.extensions = List.copyOf(without);
    return this;
  }

  /** Offer AUTH PLAIN LOGIN and take these credentials only. */
  public ScriptedMx auth(String user, String password) {
    this.user = user;
    this.password = password;
    return this;
  }

  /** Close a session idle this long with 421 (a server ending a kept connection). */
  public ScriptedMx idleTimeout(Duration timeout) {
    this.idleMillis = (int) timeout.toMillis();
    return this;
  }

  /** The name the server gives in its greeting and EHLO reply (default scripted.test). */
  public ScriptedMx hostName(String name) {
    this.hostName = name;
    return this;
  }

  /** Prepend a Received field (RFC 5321 §4.4) to each message taken, as real MTAs do. */
  public ScriptedMx stampReceived() {
    this.stampReceived = true;
    return this;
  }

  /** Accept connections and never say a word (a greeting timeout for the client). */
  public ScriptedMx silent() {
    this.silent = true;
    return this;
  }

  /**
   * Answer {@code command} (GREETING, EHLO, MAIL, RCPT, DATA, "." for the end of data) with {@code reply};
   * null: the normal reply again. A refused GREETING ends the session.
   */
  public ScriptedMx reply(String command, String reply) {
    if (reply == null) {
      replies.remove(command.toUpperCase(Locale.ROOT));
    } else {
      replies.put(command.toUpperCase(Locale.ROOT), reply);
    }
    return this;
  }

  /** Every RCPT TO:{@code recipient} gets {@code reply}, e.g. "550 5.1.1 no such user". */
  public ScriptedMx refuse(String recipient, String reply) {
    refusedRecipients.put(recipient, reply);
    return this;
  }

  /** The next RCPT TO:{@code recipient} commands get these replies, in order; then it is accepted. */
  public ScriptedMx script(String recipient, String... replies) {
    rcptScripts.computeIfAbsent(recipient, r -> new ArrayDeque<>()).addAll(List.of(replies));
    return this;
  }

  /** After {@code messages} accepted on one connection, MAIL on it gets {@code reply} (e.g. "421 4.7.28 ..."). */
  public ScriptedMx limitPerSession(int messages, String reply) {
    this.sessionLimitReply = reply;
    this.sessionLimit = messages;
    return this;
  }

  /**
   * Wait this long before answering {@code command}. A session already waiting follows a change; one
   * whose client hangs up meanwhile ends there (counted by {@link #cutOff}).
   */
  public ScriptedMx delay(String command, Duration delay) {
    delays.put(command.toUpperCase(Locale.ROOT), delay);
    return this;
  }

  /** Do not answer {@code command} until {@link #delay} says when (at most two minutes). */
  public ScriptedMx hold(String command) {
    return delay(command, HOLD);
  }

  /** Close the connection after the first line of message data, without a reply. */
  public ScriptedMx dropInData() {
    this.dropInData = true;
    return this;
  }

  public int port() {
    return server.getLocalPort();
  }

  public List<Received> received() {
    return received;
  }

  /** The accepted messages as their recipients get them: one copy per recipient, in order. */
  public List<Copy> copies() {
    List<Copy> copies = new ArrayList<>();
    for (Received r : received) {
      for (String recipient : r.recipients()) {
        copies.add(new Copy(r.from(), recipient, r.data()));
      }
    }
    return copies;
  }

  /** The recipients of the accepted messages, in order. */
  public List<String> delivered() {
    return copies().stream().map(Copy::recipient).toList();
  }

  /** Every command line received, in order (AUTH exchanges included). */
  public List<String> commands() {
    return commands;
  }

  /** Sessions accepted so far (connections, whatever became of them). */
  public int sessions() {
    return sessions.get();
  }

  /** Sessions open now. */
  public int openSessions() {
    return openSessions.get();
  }

  /** The most sessions that were open at once. */
  public int maxOpenSessions() {
    return maxOpenSessions.get();
  }

  /** TLS handshakes completed so far. */
  public int handshakes() {
    return handshakes.get();
  }

  /** RCPT commands received, whatever their reply. */
  public int rcptCommands() {
    return rcptCommands.get();
  }

  /** MAIL commands refused (by {@link #reply} or {@link #limitPerSession}). */
  public int refusedMail() {
    return refusedMail.get();
  }

  /** System.nanoTime() at which each refused MAIL command was answered, in order. */
  public List<Long> refusals() {
    return List.copyOf(refusals);
  }

  /** System.nanoTime() at which each session was accepted, in order. */
  public List<Long> connected() {
    return List.copyOf(connected);
  }

  /** System.nanoTime() at which each session whose greeting was a refusal ({@link #reply}) got it, in order. */
  public List<Long> refusedGreetings() {
    return List.copyOf(refusedGreetings);
  }

  /** The most transactions that were between DATA and the reply to its end at the same time. */
  public int maxInData() {
    return maxInData.get();
  }

  /** Starts counting {@link #maxInData} afresh. */
  public void resetMaxInData() {
    maxInData.set(inData.get());
  }

  /** System.nanoTime() at which each accepted message was taken, in order. */
  public List<Long> arrivals() {
    return received.stream().map(Received::arrivedNanos).toList();
  }

  /** Messages whose data ended with "." (acknowledged or not). */
  public int dataEnded() {
    return dataEnded.get();
  }

  /**
   * MAIL commands the client had sent more after before their reply went out: pipelined (RFC 2920). A
   * client that waits for each reply sends nothing after MAIL until it has MAIL's.
   */
  public int mailWithMoreBehind() {
    return mailWithMoreBehind.get();
  }

  /**
   * Answer DATA with 354 even when no RCPT was accepted, as RFC 2920 §3.1 forbids a server offering
   * PIPELINING to (the default is 503): a pipelining client must then end the data at once.
   */
  public ScriptedMx dataWithoutRecipients() {
    this.dataWithoutRecipients = true;
    return this;
  }

  /** Sessions the client closed while waiting for a delayed reply. */
  public int cutOff() {
    return cutOff.get();
  }

  /** Stops listening and ends every session; on return the port is free to bind again. */
  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket s : open) {
      s.close();
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      connected.add(System.nanoTime());
      sessions.incrementAndGet();
      maxOpenSessions.accumulateAndGet(openSessions.incrementAndGet(), Math::max);
      open.add(s);
      Thread.ofVirtual().name("scripted-mx-session").start(() -> {
        try {
          session(s);
        } catch (IOException e) {
          // the client went away, or we dropped it on purpose
        } finally {
          open.remove(s);
          openSessions.decrementAndGet();
          try {
            s.close();
          } catch (IOException e) {
            // closed either way
          }
        }
      });
    }
  }

  /** The state of one session. */
  private final class Session {
    Socket socket;
    PushbackInputStream in;
    OutputStream out;
    Optional<String> protocol = Optional.empty();
    Optional<String> sni = Optional.empty();
    Optional<String> authenticated = Optional.empty();
    String helo = "";
    int accepted;

    void secure(SSLSocket secured) throws IOException {
      secured.startHandshake();
      handshakes.incrementAndGet();
      protocol = Optional.of(secured.getSession().getProtocol());
      if (secured.getSession() instanceof ExtendedSSLSession extended) {
        sni = extended.getRequestedServerNames().stream().filter(n -> n instanceof SNIHostName)
            .map(n -> ((SNIHostName) n).getAsciiName()).findFirst();
      }
      use(secured);
    }

    void use(Socket s) throws IOException {
      socket = s;
      // Buffered: no client sends before the reply to STARTTLS, so nothing read ahead is lost by the switch.
      in = new PushbackInputStream(new BufferedInputStream(s.getInputStream()), 1);
      out = s.getOutputStream();
    }
  }

  private void session(Socket plain) throws IOException {
    plain.setSoTimeout(idleMillis);
    Session s = new Session();
    InetAddress peer = plain.getInetAddress();
    if (implicitTls != null) {
      SSLSocket secured = (SSLSocket) implicitTls.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
      secured.setUseClientMode(false);
      s.secure(secured);
    } else {
      s.use(plain);
    }
    if (silent) {
      while (s.in.read() >= 0) {
        // say nothing until the client gives up
      }
      return;
    }
    if (!send(s, "GREETING", "220 " + hostName + " ESMTP")) {
      refusedGreetings.add(System.nanoTime());
      return;
    }
    String from = null;
    List<String> recipients = new ArrayList<>();
    String line;
    while ((line = readLine(s)) != null) {
      commands.add(line);
      String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
      switch (verb) {
        case "EHLO", "HELO" -> {
          s.helo = line.contains(" ") ? line.substring(line.indexOf(' ') + 1).strip() : "";
          List<String> offered = new ArrayList<>(extensions);
          if ((tls != null || brokenTls) && s.protocol.isEmpty()) {
            offered.add("STARTTLS");
          }
          if (user != null) {
            offered.add("AUTH PLAIN LOGIN");
          }
          StringBuilder ehlo = new StringBuilder("250").append(offered.isEmpty() ? " " : "-").append(hostName);
          for (int i = 0; i < offered.size(); i++) {
            ehlo.append("\r\n250").append(i == offered.size() - 1 ? " " : "-").append(offered.get(i));
          }
          if (!send(s, "EHLO", ehlo.toString())) {
            return;
          }
        }
        case "STARTTLS" -> {
          if (brokenTls && s.protocol.isEmpty()) {
            send(s, "STARTTLS", "220 2.0.0 ready");
            write(s, "this is not TLS");
            return;
          }
          if (tls == null || s.protocol.isPresent()) {
            send(s, "STARTTLS", "502 5.5.1 STARTTLS not offered");
            continue;
          }
          if (!send(s, "STARTTLS", "220 2.0.0 go ahead")) {
            continue;
          }
          SSLSocket secured = (SSLSocket) tls.getSocketFactory().createSocket(s.socket, null, s.socket.getPort(), true);
          secured.setUseClientMode(false);
          s.secure(secured);
          from = null;
          recipients.clear();
        }
        case "AUTH" -> auth(s, line);
        case "MAIL" -> {
          if (s.in.available() > 0) {
            mailWithMoreBehind.incrementAndGet();
          }
          String normal = "250 2.1.0 ok";
          long declared = sizeParameter(line);
          if (s.accepted >= sessionLimit) {
            normal = sessionLimitReply;
          } else if (maxSize > 0 && declared > maxSize) {
            normal = "552 5.3.4 Message size exceeds fixed limit";
          }
          if (send(s, "MAIL", normal)) {
            from = address(line);
            recipients.clear();
          } else {
            refusals.add(System.nanoTime());
            refusedMail.incrementAndGet();
          }
        }
        case "RCPT" -> {
          rcptCommands.incrementAndGet();
          if (from == null) { // RFC 5321 §4.1.4: RCPT only after an accepted MAIL
            write(s, "503 5.5.1 need MAIL first");
            continue;
          }
          String recipient = address(line);
          Deque<String> script = rcptScripts.get(recipient);
          String scripted = script == null ? null : script.pollFirst();
          String normal = scripted != null ? scripted : refusedRecipients.getOrDefault(recipient, "250 2.1.5 ok");
          if (send(s, "RCPT", normal)) {
            recipients.add(recipient);
          }
        }
        case "DATA" -> {
          if ((from == null || recipients.isEmpty()) && !dataWithoutRecipients) { // RFC 2920 §3.1
            write(s, "503 5.5.1 no valid recipients");
            continue;
          }
          if (!send(s, "DATA", "354 go ahead")) {
            continue;
          }
          maxInData.accumulateAndGet(inData.incrementAndGet(), Math::max);
          try {
            byte[] read = readData(s);
            if (read == null) {
              return; // dropped (or the client went away) mid-DATA
            }
            byte[] data = stampReceived ? stamp(read, s.helo, peer) : read;
            dataEnded.incrementAndGet();
            String normal = maxSize > 0 && data.length > maxSize ? "552 5.3.4 Message size exceeds fixed limit"
                : "250 2.0.0 queued";
            // Recorded before the reply goes out: a client that saw 250 finds the message here.
            String f = from;
            List<String> to = List.copyOf(recipients);
            if (!send(s, ".", normal, () -> received.add(new Received(f, to, data, s.protocol, s.sni,
                s.authenticated, peer, System.nanoTime())))) {
              if (s.socket.isClosed()) {
                return;
              }
            } else {
              s.accepted++;
            }
          } finally {
            inData.decrementAndGet();
          }
          from = null;
          recipients.clear();
        }
        case "RSET" -> {
          from = null;
          recipients.clear();
          send(s, "RSET", "250 2.0.0 ok");
        }
        case "NOOP" -> send(s, "NOOP", "250 2.0.0 ok");
        case "QUIT" -> {
          send(s, "QUIT", "221 2.0.0 bye");
          return;
        }
        default -> send(s, verb, "502 5.5.2 command not recognized");
      }
    }
  }

  /** AUTH PLAIN (initial response or not) and AUTH LOGIN, against the one configured user. */
  private void auth(Session s, String line) throws IOException {
    String[] parts = line.split(" ");
    String mechanism = parts.length > 1 ? parts[1].toUpperCase(Locale.ROOT) : "";
    if (user == null || s.authenticated.isPresent()) {
      send(s, "AUTH", "503 5.5.1 AUTH not available");
      return;
    }
    String name;
    String secret;
    if (mechanism.equals("PLAIN")) {
      String response = parts.length > 2 ? parts[2] : challenge(s, "334 ");
      if (response == null) {
        return;
      }
      String[] fields = decode(response).split("\0", -1);
      name = fields.length == 3 ? fields[1] : "";
      secret = fields.length == 3 ? fields[2] : "";
    } else if (mechanism.equals("LOGIN")) {
      String first = parts.length > 2 ? parts[2] : challenge(s, "334 VXNlcm5hbWU6");
      String second = first == null ? null : challenge(s, "334 UGFzc3dvcmQ6");
      if (second == null) {
        return;
      }
      name = decode(first);
      secret = decode(second);
    } else {
      send(s, "AUTH", "504 5.5.4 mechanism not supported");
      return;
    }
    if (name.equals(user) && secret.equals(password)) {
      s.authenticated = Optional.of(name);
      send(s, "AUTH", "235 2.7.0 Authentication successful");
    } else {
      send(s, "AUTH", "535 5.7.8 Authentication credentials invalid");
    }
  }

  private String challenge(Session s, String prompt) throws IOException {
    write(s, prompt);
    String answer = readLine(s);
    if (answer != null) {
      commands.add(answer);
    }
    return answer;
  }

  private static String decode(String base64) {
    try {
      return new String(Base64.getDecoder().decode(base64.trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /** Sends the scripted reply for {@code command} (or {@code normal}); true if it was a 2xx/3xx. */
  private boolean send(Session s, String command, String normal) throws IOException {
    return send(s, command, normal, () -> { });
  }

  /**
   * As {@link #send(Session, String, String)}, running {@code onSuccess} before a 2xx/3xx goes out.
   * After a delay the client gave up on, nothing is sent, the session is closed and false returned.
   */
  private boolean send(Session s, String command, String normal, Runnable onSuccess) throws IOException {
    if (!waitToAnswer(s, command)) {
      cutOff.incrementAndGet();
      s.socket.close();
      return false;
    }
    String reply = replies.getOrDefault(command, normal);
    boolean ok = reply.charAt(0) == '2' || reply.charAt(0) == '3';
    if (ok) {
      onSuccess.run();
    }
    write(s, reply);
    if (reply.startsWith("421")) {
      s.socket.close(); // RFC 5321 §3.8: the server closes the session after 421, as real ones do
    }
    return ok;
  }

  private static void write(Session s, String text) throws IOException {
    s.out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
    s.out.flush();
  }

  /** Waits the delay set for {@code command}, following changes to it; false if the client hung up meanwhile. */
  private boolean waitToAnswer(Session s, String command) throws IOException {
    if (delays.get(command) == null) {
      return true;
    }
    long start = System.nanoTime();
    int timeout = s.socket.getSoTimeout();
    boolean watching = true;
    try {
      while (true) {
        Duration delay = delays.get(command);
        long left = (delay == null ? 0 : Math.min(delay.toNanos(), HOLD.toNanos())) - (System.nanoTime() - start);
        if (left <= 0) {
          return true;
        }
        if (!watching) {
          Thread.sleep(Math.min(20, Math.max(1, left / 1_000_000)));
          continue;
        }
        s.socket.setSoTimeout((int) Math.max(1, Math.min(20, left / 1_000_000)));
        try {
          int b = s.in.read();
          if (b < 0) {
            return false; // end of stream: the client closed the session
          }
          s.in.unread(b); // a pipelined command: keep it, and stop watching
          watching = false;
        } catch (SocketTimeoutException e) {
          // still there
        } catch (IOException e) {
          return false; // reset: the client dropped the session
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } finally {
      if (!s.socket.isClosed()) {
        s.socket.setSoTimeout(timeout);
      }
    }
  }

  /** The message up to CRLF.CRLF, dot-unstuffed (RFC 5321 §4.5.2), byte for byte; null if the session ended first. */
  private byte[] readData(Session s) throws IOException {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    boolean first = true;
    byte[] line;
    while ((line = readRawLine(s)) != null) {
      if (first && dropInData) {
        return null;
      }
      first = false;
      int content = line.length - (line.length >= 2 && line[line.length - 2] == '\r' ? 2 : 1);
      if (content == 1 && line[0] == '.') {
        return data.toByteArray();
      }
      int skip = line.length > 0 && line[0] == '.' ? 1 : 0;
      data.write(line, skip, line.length - skip);
    }
    return null;
  }

  private byte[] stamp(byte[] data, String helo, InetAddress peer) {
    String field = "Received: from " + helo + " ([" + peer.getHostAddress() + "])\r\n\tby " + hostName
        + " with ESMTP; " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
            java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)) + "\r\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(data);
    return out.toByteArray();
  }

  /** The MAIL command's SIZE= parameter (RFC 1870), or 0. */
  private static long sizeParameter(String command) {
    for (String p : command.split(" ")) {
      if (p.toUpperCase(Locale.ROOT).startsWith("SIZE=")) {
        try {
          return Long.parseLong(p.substring(5));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static String address(String command) {
    int open = command.indexOf('<');
    int close = command.indexOf('>', open + 1);
    return open < 0 || close < 0 ? "" : command.substring(open + 1, close);
  }

  /** One command line without its CRLF (or LF); null at the end of the stream; 421 and null when idle too long. */
  private static String readLine(Session s) throws IOException {
    byte[] bytes;
    try {
      bytes = readRawLine(s);
    } catch (SocketTimeoutException e) {
      write(s, "421 4.4.2 Timeout waiting for data from client");
      return null;
    }
    if (bytes == null) {
      return null;
    }
    int length = bytes.length - (bytes.length >= 2 && bytes[bytes.length - 2] == '\r' ? 2 : 1);
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  /** One line with its line end; null at the end of the stream (a last line without one is dropped). */
  private static byte[] readRawLine(Session s) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = s.in.read()) >= 0) {
      line.write(b);
      if (b == '\n') {
        return line.toByteArray();
      }
    }
    return null;
  }
}
