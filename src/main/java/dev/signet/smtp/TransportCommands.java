package dev.signet.smtp;

import java.io.IOException;
import org.subethamail.smtp.internal.command.StartTLSCommand;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * QUIT and STARTTLS, around SubEthaSMTP's own: both change what {@link ConnectionLimiter} counts or
 * allows for the session.
 */
final class TransportCommands {
  private TransportCommands() {}

  /**
   * RFC 5321 §4.1.1.10: 221, then close. The session stops counting before the reply goes out: a
   * client that reconnects the moment it reads 221 (a connection pool) must find its slot free.
   */
  static final class Quit extends BaseCommand {
    private final ConnectionLimiter limiter;

    Quit(ConnectionLimiter limiter) {
      super("QUIT", "Exit the SMTP session.");
      this.limiter = limiter;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      limiter.release(sess);
      sess.sendResponse("221 2.0.0 Bye");
      sess.quit();
    }
  }

  /** SubEthaSMTP's STARTTLS, whose new socket has the server-wide idle timeout: set the session's again. */
  static final class StartTls extends BaseCommand {
    private final StartTLSCommand delegate = new StartTLSCommand();
    private final ConnectionLimiter limiter;

    StartTls(ConnectionLimiter limiter) {
      super("STARTTLS", "The starttls command.");
      this.limiter = limiter;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      delegate.execute(command, sess);
      limiter.idleTimeout(sess);
    }
  }
}
