package dev.signet.delivery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Socket factories for one SMTPTransport connection that keep hold of the TCP socket, so the sender can
 * change the read timeout between SMTP phases (RFC 5321 §4.5.3.2 gives each phase its own). Angus asks
 * the plain factory for the unconnected socket, and the TLS factory to layer TLS over it (STARTTLS or
 * implicit TLS); either way the TCP socket passes through here.
 */
final class SocketCapture {

  private volatile Socket socket;
  private volatile boolean tls;

  /** For {@code mail.smtp.socketFactory}: hands out the (unconnected) TCP socket. */
  SocketFactory plain() {
    return new SocketFactory() {
      @Override
      public Socket createSocket() {
        Socket s = new Socket();
        socket = s;
        return s;
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
    return new SSLSocketFactory() {
      @Override
      public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        if (socket == null) {
          socket = s; // implicit TLS: Angus made the TCP socket itself
        }
        SocketCapture.this.tls = true;
        return tls.createSocket(s, host, port, autoClose);
      }

      @Override
      public String[] getDefaultCipherSuites() {
        return tls.getDefaultCipherSuites();
      }

      @Override
      public String[] getSupportedCipherSuites() {
        return tls.getSupportedCipherSuites();
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

  /** Whether TLS was layered over the socket (implicit TLS or STARTTLS). */
  boolean tls() {
    return tls;
  }

  /** Sets the read timeout for the next phase; a TLS layer over the socket reads through it. */
  void readTimeout(Duration timeout) {
    Socket s = socket;
    if (s == null) {
      return;
    }
    try {
      s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    } catch (SocketException e) {
      // the socket is closed: the next read or write reports it
    }
  }

  private static IOException unsupported() {
    return new IOException("SocketCapture creates only the socket Angus asks for");
  }
}
