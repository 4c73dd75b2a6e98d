package dev.signet.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
 * A receiving MX for tests, written on plain sockets so that every step can be scripted: the reply to
 * any command (greeting, EHLO, MAIL, RCPT, DATA, "." for the end of data), a delay before it, a session
 * cut in the middle of DATA, and STARTTLS with a chosen certificate (or none offered). It records each
 * accepted transaction with the TLS facts of its session (protocol, the SNI name the client sent).
 *
 * <pre>
 * try (ScriptedMx mx = ScriptedMx.start("127.0.0.2", port).starttls(ca.issue("mx1.dest.test"))) {
 *   mx.reply("RCPT", "451 4.3.0 try later");
 *   ...
 * }
 * </pre>
 */
public final class ScriptedMx implements AutoCloseable {

  /** One accepted transaction: data as received (dot-unstuffed, CRLF), and the session's TLS facts. */
  public record Received(String from, List<String> recipients, byte[] data, Optional<String> tlsProtocol,
      Optional<String> sni) {
    public boolean tls() {
      return tlsProtocol.isPresent();
    }
  }

  private final ServerSocket server;
  private final Map<String, String> replies = new ConcurrentHashMap<>();
  private final Map<String, Duration> delays = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sessions = new AtomicInteger();
  private final AtomicInteger handshakes = new AtomicInteger();
  private volatile SSLContext tls;
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

  /** Offer STARTTLS, presenting {@code certificate}; without this call STARTTLS is not offered. */
  public ScriptedMx starttls(TestCa.Leaf certificate) {
    this.tls = certificate.serverContext();
    return this;
  }

  /** Answer {@code command} (GREETING, EHLO, MAIL, RCPT, DATA, "." for the end of data) with {@code reply}. */
  public ScriptedMx reply(String command, String reply) {
    replies.put(command.toUpperCase(Locale.ROOT), reply);
    return this;
  }

  /** Wait this long before answering {@code command}. */
  public ScriptedMx delay(String command, Duration delay) {
    delays.put(command.toUpperCase(Locale.ROOT), delay);
    return this;
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

  /** Sessions accepted so far (connections, whatever became of them). */
  public int sessions() {
    return sessions.get();
  }

  /** TLS handshakes completed so far. */
  public int handshakes() {
    return handshakes.get();
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
      sessions.incrementAndGet();
      open.add(s);
      Thread.ofVirtual().name("scripted-mx-session").start(() -> {
        try {
          session(s);
        } catch (IOException e) {
          // the client went away, or we dropped it on purpose
        } finally {
          open.remove(s);
          try {
            s.close();
          } catch (IOException e) {
            // closed either way
          }
        }
      });
    }
  }

  private void session(Socket plain) throws IOException {
    plain.setSoTimeout(30_000);
    Socket socket = plain;
    Optional<String> protocol = Optional.empty();
    Optional<String> sni = Optional.empty();
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    if (!send(out, "GREETING", "220 scripted.test ESMTP")) {
      return;
    }
    String from = null;
    List<String> recipients = new ArrayList<>();
    String line;
    while ((line = readLine(in)) != null) {
      String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
      switch (verb) {
        case "EHLO", "HELO" -> {
          String ehlo = "250-scripted.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
              + (tls != null && protocol.isEmpty() ? "250-STARTTLS\r\n" : "") + "250 SIZE 100000000";
          if (!send(out, "EHLO", ehlo)) {
            return;
          }
        }
        case "STARTTLS" -> {
          if (tls == null || protocol.isPresent()) {
            send(out, "STARTTLS", "502 5.5.1 STARTTLS not offered");
            continue;
          }
          send(out, "STARTTLS", "220 2.0.0 go ahead");
          SSLSocket secured = (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
          secured.setUseClientMode(false);
          secured.startHandshake();
          handshakes.incrementAndGet();
          protocol = Optional.of(secured.getSession().getProtocol());
          if (secured.getSession() instanceof ExtendedSSLSession extended) {
            sni = extended.getRequestedServerNames().stream().filter(n -> n instanceof SNIHostName)
                .map(n -> ((SNIHostName) n).getAsciiName()).findFirst();
          }
          socket = secured;
          in = socket.getInputStream();
          out = socket.getOutputStream();
          from = null;
          recipients.clear();
        }
        case "MAIL" -> {
          if (send(out, "MAIL", "250 2.1.0 ok")) {
            from = address(line);
            recipients.clear();
          }
        }
        case "RCPT" -> {
          if (send(out, "RCPT", "250 2.1.5 ok")) {
            recipients.add(address(line));
          }
        }
        case "DATA" -> {
          if (!send(out, "DATA", "354 go ahead")) {
            continue;
          }
          byte[] data = readData(in);
          if (data == null) {
            return; // dropped (or the client went away) mid-DATA
          }
          // Recorded before the reply goes out: a client that saw 250 finds the message here.
          Received r = new Received(from, List.copyOf(recipients), data, protocol, sni);
          send(out, ".", "250 2.0.0 queued", () -> received.add(r));
          from = null;
          recipients.clear();
        }
        case "RSET" -> {
          from = null;
          recipients.clear();
          send(out, "RSET", "250 2.0.0 ok");
        }
        case "NOOP" -> send(out, "NOOP", "250 2.0.0 ok");
        case "QUIT" -> {
          send(out, "QUIT", "221 2.0.0 bye");
          return;
        }
        default -> send(out, verb, "502 5.5.2 command not recognized");
      }
    }
  }

  /** Sends the scripted reply for {@code command} (or {@code normal}); true if it was a 2xx/3xx. */
  private boolean send(OutputStream out, String command, String normal) throws IOException {
    return send(out, command, normal, () -> { });
  }

  /** As {@link #send(OutputStream, String, String)}, running {@code onSuccess} before a 2xx/3xx goes out. */
  private boolean send(OutputStream out, String command, String normal, Runnable onSuccess) throws IOException {
    Duration delay = delays.get(command);
    if (delay != null) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
    String reply = replies.getOrDefault(command, normal);
    boolean ok = reply.charAt(0) == '2' || reply.charAt(0) == '3';
    if (ok) {
      onSuccess.run();
    }
    out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    return ok;
  }

  /** The message up to CRLF.CRLF, dot-unstuffed (RFC 5321 §4.5.2); null if the session ended first. */
  private byte[] readData(InputStream in) throws IOException {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    String line;
    boolean first = true;
    while ((line = readLine(in)) != null) {
      if (first && dropInData) {
        return null;
      }
      first = false;
      if (line.equals(".")) {
        return data.toByteArray();
      }
      String unstuffed = line.startsWith(".") ? line.substring(1) : line;
      data.write((unstuffed + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
    return null;
  }

  private static String address(String command) {
    int open = command.indexOf('<');
    int close = command.indexOf('>', open + 1);
    return open < 0 || close < 0 ? "" : command.substring(open + 1, close);
  }

  /** One line without its CRLF (or LF); null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      line.write(b);
    }
    return null;
  }
}
