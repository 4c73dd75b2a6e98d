package dev.signet.delivery;

import java.io.IOException;
import java.net.Socket;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS layered over a connected socket (STARTTLS, RFC 3207) to one named peer whose certificate the
 * handshake checks: SNI with that name (RFC 6066 §3, RFC 7672 §8.1), TLS 1.2 or newer (RFC 8461 §5),
 * and the chain judged by {@code base}'s trust manager (WebPKI in {@link PeerTrust}, TLSA records in
 * {@link Dane}). Authenticated sessions always connect in plaintext first, so every other way to make
 * a socket is refused.
 */
final class LayeredTls extends TlsOverSocket {
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final String name;
  private final boolean checkName;

  /**
   * @param checkName also match {@code name} against the certificate's DNS-IDs in the handshake
   *     (RFC 6125, as HTTPS does: SAN dNSName, a wildcard only as the leftmost label)
   * @param what the kind of TLS, for the refusal of unconnected sockets
   */
  LayeredTls(SSLSocketFactory base, String name, boolean checkName, String what) {
    super(base, what + " TLS layers over a connected socket only");
    this.name = name;
    this.checkName = checkName;
  }

  @Override
  public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
    SSLSocket ssl = (SSLSocket) base.createSocket(s, name, port, autoClose);
    SSLParameters p = ssl.getSSLParameters();
    p.setProtocols(PROTOCOLS);
    p.setServerNames(List.of(new SNIHostName(name)));
    if (checkName) {
      p.setEndpointIdentificationAlgorithm("HTTPS");
    }
    ssl.setSSLParameters(p);
    return ssl;
  }
}
