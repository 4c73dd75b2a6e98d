package dev.signet.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.auth.EasyAuthenticationHandlerFactory;
import org.subethamail.smtp.auth.LoginFailedException;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * A receiving MTA for tests, on SubEthaSMTP (where Wiser cannot do it): chosen replies per recipient
 * and for the end of data, a refusing greeting, STARTTLS, AUTH; it records every transaction with
 * whether it ran over TLS and who authenticated.
 */
final class TestMx implements AutoCloseable {

  /** One accepted transaction: the data as received (dot-unstuffed), and the session's facts. */
  record Received(String from, List<String> recipients, byte[] data, boolean tls, Optional<String> user,
      InetAddress peer) {}

  private final SMTPServer server;
  private final Map<String, String> rcptReplies = new ConcurrentHashMap<>();
  private volatile String dataReply;
  private volatile String mailReply;
  private volatile long dataDelayMillis;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger sessions = new AtomicInteger();

  private TestMx(Builder builder) {
    SMTPServer.Builder b = SMTPServer.port(builder.port)
        .bindAddress(builder.address)
        .hostName("mx.test")
        .messageHandlerFactory(this::handler)
        .maxMessageSize(builder.maxSize)
        .sessionHandler(new SessionHandler() {
          @Override
          public SessionAcceptance accept(Session session) {
            sessions.incrementAndGet();
            return builder.greeting == null ? SessionAcceptance.success()
                : SessionAcceptance.failure(Integer.parseInt(builder.greeting.substring(0, 3)), builder.greeting.substring(4));
          }

          @Override
          public void onSessionEnd(Session session) {}
        });
    if (builder.idleTimeoutMillis > 0) {
      b.connectionTimeoutMs(builder.idleTimeoutMillis);
    }
    if (builder.tls != null) {
      b.enableTLS().startTlsSocketFactory(builder.tls);
    }
    if (builder.implicitTls != null) {
      b.serverSocketFactory(builder.implicitTls);
    }
    if (builder.user != null) {
      b.authenticationHandlerFactory(new EasyAuthenticationHandlerFactory((user, password, context) -> {
        if (!user.equals(builder.user) || !password.equals(builder.password)) {
          throw new LoginFailedException("bad credentials");
        }
      }));
    }
    server = b.build();
  }

  static Builder on(String address, int port) {
    return new Builder(address, port);
  }

  static final class Builder {
    private final InetAddress address;
    private final int port;
    private String greeting;
    private SSLContext tls;
    private SSLContext implicitTls;
    private String user;
    private String password;
    private int maxSize;
    private int idleTimeoutMillis;

    private Builder(String address, int port) {
      try {
        this.address = InetAddress.getByName(address);
      } catch (IOException e) {
        throw new IllegalArgumentException(e);
      }
      this.port = port;
    }

    /** Refuse every session with this greeting, e.g. "421 4.3.2 try later". */
    Builder greeting(String reply) {
      this.greeting = reply;
      return this;
    }

    Builder starttls(SSLContext context) {
      this.tls = context;
      return this;
    }

    /** TLS from the first byte (port 465 style). */
    Builder implicitTls(SSLContext context) {
      this.implicitTls = context;
      return this;
    }

    Builder auth(String user, String password) {
      this.user = user;
      this.password = password;
      return this;
    }

    /** Drop a session idle this long (a server ending a kept connection). */
    Builder idleTimeout(java.time.Duration timeout) {
      this.idleTimeoutMillis = (int) timeout.toMillis();
      return this;
    }

    Builder maxSize(int octets) {
      this.maxSize = octets;
      return this;
    }

    TestMx start() {
      TestMx mx = new TestMx(this);
      mx.server.start();
      return mx;
    }
  }

  /** Reply to RCPT TO:{@code recipient} with {@code reply}, e.g. "550 5.1.1 no such user". */
  TestMx reply(String recipient, String reply) {
    rcptReplies.put(recipient, reply);
    return this;
  }

  /** Reply to MAIL FROM with {@code reply} instead of 250. */
  TestMx mailReply(String reply) {
    this.mailReply = reply;
    return this;
  }

  /** Reply to the final "." with {@code reply} instead of 250. */
  TestMx dataReply(String reply) {
    this.dataReply = reply;
    return this;
  }

  /** Sit on the data this long before replying to the final "." (to run into the client's timeout). */
  TestMx dataDelay(java.time.Duration delay) {
    this.dataDelayMillis = delay.toMillis();
    return this;
  }

  List<Received> received() {
    return received;
  }

  @Override
  public void close() {
    server.stop();
  }

  /** A port free on 127.0.0.1 at the moment, for servers bound to 127.0.0.x with one shared port. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private MessageHandler handler(MessageContext context) {
    return new MessageHandler() {
      private String from;
      private final List<String> recipients = new ArrayList<>();

      @Override
      public void from(String from) throws RejectException {
        String reply = mailReply;
        if (reply != null) {
          throw new RejectException(Integer.parseInt(reply.substring(0, 3)), reply.substring(4));
        }
        this.from = from;
      }

      @Override
      public void recipient(String recipient) throws RejectException {
        String reply = rcptReplies.get(recipient);
        if (reply != null) {
          throw new RejectException(Integer.parseInt(reply.substring(0, 3)), reply.substring(4));
        }
        recipients.add(recipient);
      }

      @Override
      public String data(InputStream data) throws RejectException, IOException {
        byte[] bytes = data.readAllBytes();
        if (dataDelayMillis > 0) {
          try {
            Thread.sleep(dataDelayMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        String reply = dataReply;
        if (reply != null) {
          throw new RejectException(Integer.parseInt(reply.substring(0, 3)), reply.substring(4));
        }
        Session session = (Session) context;
        Optional<String> user = session.getAuthenticationHandler().map(h -> String.valueOf(h.getIdentity()));
        boolean tls = session.isTLSStarted() || session.getSocket() instanceof javax.net.ssl.SSLSocket;
        InetAddress peer = ((java.net.InetSocketAddress) session.getRemoteAddress()).getAddress();
        received.add(new Received(from, List.copyOf(recipients), bytes, tls, user, peer));
        return null;
      }

      @Override
      public void done() {}
    };
  }
}
