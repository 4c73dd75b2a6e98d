package dev.signet.delivery;

import dev.signet.net.IoDeadlines;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Socket factories for one SMTPTransport connection that keep hold of the TCP socket, so the sender can
 * change the read timeout between SMTP phases (RFC 5321 §4.5.3.2 gives each phase its own). Angus asks
 * the plain factory for the unconnected socket, and the TLS factory to layer TLS over it (STARTTLS or
 * implicit TLS); either way the TCP socket passes through here. Holding it also lets a stopping
 * relay cut the session from another thread ({@link Registry#abortAll}).
 *
 * <p>The socket the plain factory makes is watched by {@link IoDeadlines}: its streams note when a
 * read or write starts, and the read and write limits are kept by the watch thread instead of a
 * socket read timeout and Angus's timer task per write (two thread wake-ups per read on a virtual
 * thread). With implicit TLS Angus makes the TCP socket itself; that one keeps the socket read timeout.
 */
final class SocketCapture {

  /**
   * The captures of one sender's open sessions. Closing the TCP socket is what ends a thread blocked
   * in a read or write on it (as well for a TLS layer over it), from any thread; interrupting a virtual
   * thread would close it too, but leaves the interrupt set for the spool write that follows.
   */
  static final class Registry {
    private final Set<SocketCapture> open = ConcurrentHashMap.newKeySet();
    private final IoDeadlines deadlines;
    private volatile boolean aborted;

    /** @param deadlines what keeps the read and write limits of the sockets made by {@link #plain} */
    Registry(IoDeadlines deadlines) {
      this.deadlines = deadlines;
    }

    /** A capture for one new session; once {@link #abortAll} ran, one whose socket is closed at birth. */
    SocketCapture capture() {
      SocketCapture c = new SocketCapture(this);
      open.add(c);
      if (aborted) { // after the add: either abortAll sees c, or c sees the flag
        c.abort();
      }
      return c;
    }

    /** Whether {@link #abortAll} ran: no session may start any more. */
    boolean aborted() {
      return aborted;
    }

    /** Closes the socket of every session, now and from now on. */
    void abortAll() {
      aborted = true;
      for (SocketCapture c : open) {
        c.abort();
      }
    }
  }

  private final Registry registry;
  private Socket socket; // guarded by this
  private boolean aborted; // guarded by this
  private volatile boolean tls;
  private volatile String localAddress = "";
  private volatile javax.net.ssl.SSLSocket tlsSocket;
  private volatile IoDeadlines.Watched watched; // the plain factory's socket's

  private SocketCapture(Registry registry) {
    this.registry = registry;
  }

  private synchronized Socket keep(Socket s) throws IOException {
    if (aborted) {
      s.close();
      throw new SocketException("the relay is stopping: no new session");
    }
    if (socket == null) {
      socket = s;
    }
    return s;
  }

  /** Closes the TCP socket (a blocked read or write on it fails at once) and any made later. */
  synchronized void abort() {
    aborted = true;
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closed either way
      }
    }
  }

  /** The local address the session's TCP connection left from; empty before it connected. */
  String localAddress() {
    return localAddress;
  }

  /** The session is over (closed by its owner): nothing left to abort. */
  void forget() {
    registry.open.remove(this);
    IoDeadlines.Watched w = watched;
    if (w != null) {
      w.close();
    }
  }

  /**
   * For {@code mail.smtp.socketFactory}: hands out the (unconnected) TCP socket, watched: a read may
   * wait {@code read} (until {@link #readTimeout} changes it), a write {@code write}.
   */
  SocketFactory plain(Duration read, Duration write) {
    return new SocketFactory() {
      @Override
      public Socket createSocket() throws IOException {
        IoDeadlines.WatchedSocket made = new IoDeadlines.WatchedSocket(registry.deadlines) {
          @Override
          public void connect(java.net.SocketAddress endpoint, int timeout) throws IOException {
            super.connect(endpoint, timeout);
            localAddress = getLocalAddress().getHostAddress(); // kept: a closed socket forgets it
          }
        };
        watched = made.watched().readLimit(read).writeLimit(write);
        return keep(made);
      }

      @Override
      public Socket createSocket(String host, int port) throws IOException {
        throw unsupported();
      }

      @Override
      public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
        throw unsupported();
      }

      @Override
      public Socket createSocket(InetAddress host, int port) throws IOException {
        throw unsupported();
      }

      @Override
      public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) throws IOException {
        throw unsupported();
      }
    };
  }

  /** For {@code mail.smtp.ssl.socketFactory}: layers TLS from {@code tls} over the captured TCP socket. */
  SSLSocketFactory tls(SSLSocketFactory tls) {
    return new TlsOverSocket(tls, UNSUPPORTED) {
      @Override
      public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        keep(s); // implicit TLS: Angus made the TCP socket itself
        SocketCapture.this.tls = true;
        Socket layered = base.createSocket(s, host, port, autoClose);
        if (layered instanceof javax.net.ssl.SSLSocket ssl) {
          tlsSocket = ssl;
        }
        return layered;
      }
    };
  }

  /** Whether TLS was layered over the socket (implicit TLS or STARTTLS). */
  boolean tls() {
    return tls;
  }

  /** The TLS session over the socket, once the handshake is done. */
  java.util.Optional<javax.net.ssl.SSLSession> tlsSession() {
    javax.net.ssl.SSLSocket ssl = tlsSocket;
    return ssl == null ? java.util.Optional.empty() : java.util.Optional.of(ssl.getSession());
  }

  /**
   * The stream that writes to the session's peer: the TLS layer's once there is one (implicit TLS or
   * after STARTTLS), else the TCP socket's. Writes through it keep the socket's write limit (the watched
   * socket's, or Angus's with implicit TLS, under the TLS layer). Angus flushes its own buffer after
   * each command, so a transaction may write here between Angus's commands.
   */
  java.io.OutputStream output() throws IOException {
    javax.net.ssl.SSLSocket ssl = tlsSocket;
    if (ssl != null) {
      return ssl.getOutputStream();
    }
    Socket s;
    synchronized (this) {
      s = socket;
    }
    if (s == null) {
      throw new SocketException("not connected");
    }
    return s.getOutputStream();
  }

  /** Sets the read timeout for the next phase; a TLS layer over the socket reads through it. */
  void readTimeout(Duration timeout) {
    Socket s;
    synchronized (this) {
      s = socket;
    }
    if (s == null) {
      return;
    }
    IoDeadlines.Watched w = watched;
    if (w != null) {
      w.readLimit(timeout);
      return;
    }
    try {
      s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    } catch (SocketException e) {
      // the socket is closed: the next read or write reports it
    }
  }

  private static final String UNSUPPORTED = "SocketCapture creates only the socket Angus asks for";

  private static IOException unsupported() {
    return new IOException(UNSUPPORTED);
  }
}
