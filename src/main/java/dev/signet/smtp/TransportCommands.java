package dev.signet.smtp;

import java.io.IOException;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * QUIT, around SubEthaSMTP's own: it changes what {@link ConnectionLimiter} counts for the session.
 * (STARTTLS is SubEthaSMTP's own: the idle timeout lives on the watched TCP socket under the TLS
 * layer, so the new socket changes nothing for it.)
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
}
