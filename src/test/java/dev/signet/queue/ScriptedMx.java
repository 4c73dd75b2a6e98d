package dev.signet.queue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * A receiving MTA on SubEthaSMTP whose RCPT replies follow a script per recipient: each RCPT TO for
 * an address takes the next scripted reply ("451 4.3.0 try later", "550 5.1.1 no such user"); when
 * the script is used up the recipient is accepted. Records every accepted transaction. It can also
 * answer as the big providers do when pressed: refuse MAIL after N messages on one connection (Gmail's
 * "421-4.7.28"), or refuse every MAIL for a while (Microsoft's "451 4.7.500"); and it counts sessions
 * open at once.
 */
final class ScriptedMx implements AutoCloseable {
  record Received(String from, List<String> recipients, byte[] data) {}

  private final SMTPServer server;
  private final Map<String, Deque<String>> scripts = new ConcurrentHashMap<>();
  final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger rcptCommands = new AtomicInteger();
  private final AtomicInteger inData = new AtomicInteger();
  /** The most transactions that were in DATA at the same time. */
  final AtomicInteger maxConcurrent = new AtomicInteger();
  /** How long each DATA takes, to make concurrent attempts overlap. */
  volatile long dataMillis;
  /** SMTP sessions open now, and the most that were open at once. */
  final AtomicInteger openSessions = new AtomicInteger();
  final AtomicInteger maxSessions = new AtomicInteger();
  /** System.nanoTime() of every accepted message, in order. */
  final List<Long> arrivals = new CopyOnWriteArrayList<>();
  /** Messages accepted per session id. */
  private final Map<String, AtomicInteger> perSession = new ConcurrentHashMap<>();
  private volatile int sessionLimit = Integer.MAX_VALUE;
  private volatile String sessionLimitReply;
  private volatile String mailReply;
  /** MAIL commands refused (by the session limit or {@link #refuseMail}). */
  final AtomicInteger refusedMail = new AtomicInteger();

  ScriptedMx(String address, int port) throws IOException {
    server = SMTPServer.port(port).bindAddress(InetAddress.getByName(address)).hostName("scripted.test")
        .messageHandlerFactory(this::handler)
        .sessionHandler(new SessionHandler() {
          @Override
          public SessionAcceptance accept(Session session) {
            maxSessions.accumulateAndGet(openSessions.incrementAndGet(), Math::max);
            return SessionAcceptance.success();
          }

          @Override
          public void onSessionEnd(Session session) {
            openSessions.decrementAndGet();
          }
        }).build();
    server.start();
  }

  /** After {@code messages} accepted on one connection, MAIL on it gets {@code reply} (e.g. "421 4.7.28 ..."). */
  ScriptedMx limitPerSession(int messages, String reply) {
    sessionLimitReply = reply;
    sessionLimit = messages;
    return this;
  }

  /** Every MAIL gets {@code reply} until called again with null. */
  ScriptedMx refuseMail(String reply) {
    mailReply = reply;
    return this;
  }

  /** The next RCPT TO:{@code recipient} commands get these replies, in order. */
  ScriptedMx script(String recipient, String... replies) {
    scripts.computeIfAbsent(recipient, r -> new ArrayDeque<>()).addAll(List.of(replies));
    return this;
  }

  private MessageHandler handler(MessageContext context) {
    return new MessageHandler() {
      private String from;
      private final List<String> recipients = new ArrayList<>();

      @Override
      public void from(String from) throws RejectException {
        String refuse = mailReply;
        if (refuse == null && perSession.computeIfAbsent(context.getSessionId(), s -> new AtomicInteger()).get() >= sessionLimit) {
          refuse = sessionLimitReply;
        }
        if (refuse != null) {
          refusedMail.incrementAndGet();
          throw new RejectException(Integer.parseInt(refuse.substring(0, 3)), refuse.substring(4));
        }
        this.from = from;
      }

      @Override
      public void recipient(String recipient) throws RejectException {
        rcptCommands.incrementAndGet();
        Deque<String> script = scripts.get(recipient);
        String reply = script == null ? null : script.pollFirst();
        if (reply != null) {
          throw new RejectException(Integer.parseInt(reply.substring(0, 3)), reply.substring(4));
        }
        recipients.add(recipient);
      }

      @Override
      public String data(InputStream data) throws IOException {
        int now = inData.incrementAndGet();
        maxConcurrent.accumulateAndGet(now, Math::max);
        try {
          byte[] bytes = data.readAllBytes();
          if (dataMillis > 0) {
            Thread.sleep(dataMillis);
          }
          received.add(new Received(from, List.copyOf(recipients), bytes));
          arrivals.add(System.nanoTime());
          perSession.computeIfAbsent(context.getSessionId(), s -> new AtomicInteger()).incrementAndGet();
          return null;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        } finally {
          inData.decrementAndGet();
        }
      }

      @Override
      public void done() {}
    };
  }

  @Override
  public void close() {
    server.stop();
  }
}
