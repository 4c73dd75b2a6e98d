package dev.signet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/** A recipient MX on loopback that answers 550 5.1.1 for recipients whose local part is "gone". */
final class RefusingMx implements AutoCloseable {
  private final SMTPServer server;
  /** Connections accepted. */
  final AtomicInteger sessions = new AtomicInteger();
  final List<String> delivered = new CopyOnWriteArrayList<>();

  RefusingMx(String address, int port) throws IOException {
    server = SMTPServer.port(port).bindAddress(InetAddress.getByName(address)).hostName("mx.dest.test")
        .messageHandlerFactory(this::handler)
        .sessionHandler(new SessionHandler() {
          @Override
          public SessionAcceptance accept(Session session) {
            sessions.incrementAndGet();
            return SessionAcceptance.success();
          }

          @Override
          public void onSessionEnd(Session session) {}
        }).build();
    server.start();
  }

  private MessageHandler handler(MessageContext context) {
    return new MessageHandler() {
      private final List<String> rcpts = new CopyOnWriteArrayList<>();

      @Override
      public void from(String from) {}

      @Override
      public void recipient(String recipient) throws RejectException {
        if (recipient.startsWith("gone@")) {
          throw new RejectException(550, "5.1.1 <" + recipient + ">: Recipient address rejected: User unknown");
        }
        rcpts.add(recipient);
      }

      @Override
      public String data(InputStream data) throws IOException {
        data.readAllBytes();
        delivered.addAll(rcpts);
        return null;
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
