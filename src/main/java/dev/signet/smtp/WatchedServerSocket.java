package dev.signet.smtp;

import dev.signet.net.IoDeadlines;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/**
 * The submission listeners' server socket: every accepted connection is watched by
 * {@link IoDeadlines} (the idle and session timeouts, see {@link ConnectionLimiter}) instead of
 * having a socket read timeout. For implicit TLS the accepted socket is handed out with TLS layered
 * over it (the handshake runs on the session's thread, at its first read), so the TLS layer reads
 * through the watched stream too, as it does after STARTTLS.
 */
final class WatchedServerSocket extends ServerSocket {
  /** The watch of each socket handed out (plain, or TLS over plain); weak, so a socket never taken up is no leak. */
  private static final Map<Socket, IoDeadlines.Watched> HANDED_OUT = Collections.synchronizedMap(new WeakHashMap<>());

  private final IoDeadlines deadlines;
  private final Tls implicitTls;

  /** @param implicitTls the TLS to layer over every connection, or null for plain SMTP (STARTTLS later) */
  WatchedServerSocket(IoDeadlines deadlines, Tls implicitTls) throws IOException {
    this.deadlines = deadlines;
    this.implicitTls = implicitTls;
  }

  @Override
  public Socket accept() throws IOException {
    if (isClosed()) {
      throw new SocketException("Socket is closed");
    }
    IoDeadlines.WatchedSocket plain = new IoDeadlines.WatchedSocket(deadlines);
    try {
      implAccept(plain);
    } catch (IOException | RuntimeException e) {
      plain.close(); // leaves the watch
      throw e;
    }
    Socket handedOut = plain;
    if (implicitTls != null) {
      try {
        handedOut = implicitTls.wrap(plain);
      } catch (IOException | RuntimeException e) {
        plain.close();
        throw e;
      }
    }
    HANDED_OUT.put(handedOut, plain.watched());
    return handedOut;
  }

  /** The watch of a socket this class accepted (the session's first socket), if it is one. */
  static Optional<IoDeadlines.Watched> watched(Socket accepted) {
    return Optional.ofNullable(HANDED_OUT.remove(accepted));
  }
}
