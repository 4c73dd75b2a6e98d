package dev.signet.delivery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLSocketFactory;

/**
 * An {@link SSLSocketFactory} that only layers TLS over a socket already connected (STARTTLS, or
 * implicit TLS over the socket Angus made): the cipher suites are {@code base}'s, and every way of
 * making a socket of its own is refused with {@code refusal}.
 */
abstract class TlsOverSocket extends SSLSocketFactory {
  final SSLSocketFactory base;
  private final String refusal;

  /** @param refusal the message for a request to make an unconnected socket */
  TlsOverSocket(SSLSocketFactory base, String refusal) {
    this.base = base;
    this.refusal = refusal;
  }

  @Override
  public abstract Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException;

  @Override
  public String[] getDefaultCipherSuites() {
    return base.getDefaultCipherSuites();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return base.getSupportedCipherSuites();
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    throw unconnected();
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
    throw unconnected();
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    throw unconnected();
  }

  @Override
  public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) throws IOException {
    throw unconnected();
  }

  IOException unconnected() {
    return new IOException(refusal);
  }
}
