package dev.signet.delivery;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * Fetches {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} as RFC 8461 §3.3 asks: HTTPS
 * authenticated as {@code mta-sts.<domain>} (WebPKI, {@link PeerTrust}), status 200 only (redirects
 * are not followed), media type text/plain, a body of at most 64 KB, bounded connect and read times.
 *
 * <p>HTTP/1.1 over our own socket rather than java.net.http: the policy host's address must come
 * from {@code delivery.dns} like every other lookup of delivery, and the JDK's clients resolve names
 * only through the system resolver.
 */
final class PolicyFetcher {

  /** §3.3: "senders SHOULD impose a limit of 64 KB on the policy". */
  static final int MAX_BODY = 64 * 1024;
  private static final int MAX_HEAD = 16 * 1024;

  /** The fetch failed; {@code resultType} is the RFC 8460 §4.3.2.2 name of the failure. */
  static final class Failure extends Exception {
    final String resultType;

    Failure(String resultType, String message) {
      super(message);
      this.resultType = resultType;
    }
  }

  private final PeerTrust trust;
  private final Function<String, List<InetAddress>> addresses;
  private final int port;
  private final Duration timeout;

  /**
   * @param addresses the A and AAAA addresses of a host name, through {@code delivery.dns}
   * @param port 443; tests serve policies elsewhere
   * @param timeout for the connect and for each read
   */
  PolicyFetcher(PeerTrust trust, Function<String, List<InetAddress>> addresses, int port, Duration timeout) {
    this.trust = trust;
    this.addresses = addresses;
    this.port = port;
    this.timeout = timeout;
  }

  /** The policy text of {@code domain}. */
  String fetch(String domain) throws Failure {
    String host = "mta-sts." + domain;
    List<InetAddress> found = addresses.apply(host);
    if (found.isEmpty()) {
      throw new Failure("sts-policy-fetch-error", "policy host " + host + " has no address");
    }
    List<String> trouble = new ArrayList<>();
    for (InetAddress address : found) {
      try {
        return fetch(host, address);
      } catch (SSLException e) {
        PeerTrust.Failure why = PeerTrust.classify(e);
        throw new Failure("sts-webpki-invalid", "https://" + host + "/: " + why.resultType() + ": " + why.detail());
      } catch (IOException e) {
        trouble.add(address.getHostAddress() + ": " + SmtpConnection.cause(e));
      }
    }
    throw new Failure("sts-policy-fetch-error", "https://" + host + "/: " + String.join("; ", trouble));
  }

  private String fetch(String host, InetAddress address) throws IOException, Failure {
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    try (Socket tcp = new Socket()) {
      tcp.connect(new InetSocketAddress(address, port), millis);
      tcp.setSoTimeout(millis);
      // A server that sends a byte now and then must not hold the delivery that waits for the policy:
      // the whole exchange gets twice the timeout.
      long deadline = System.nanoTime() + 2 * timeout.toNanos();
      try (SSLSocket tls = (SSLSocket) trust.verifying(host).createSocket(tcp, host, port, true)) {
        tls.startHandshake();
        OutputStream out = tls.getOutputStream();
        out.write(("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host
            + "\r\nUser-Agent: Signet\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read(host, new java.io.BufferedInputStream(bounded(tls.getInputStream(), tcp, deadline, millis)));
      }
    }
  }

  /** Each read waits at most until {@code deadline} (System.nanoTime), by the socket's read timeout. */
  private static InputStream bounded(InputStream in, Socket tcp, long deadline, int perRead) {
    return new java.io.FilterInputStream(in) {
      @Override
      public int read() throws IOException {
        limit();
        return super.read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        limit();
        return super.read(b, off, len);
      }

      private void limit() throws IOException {
        long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new java.net.SocketTimeoutException("policy fetch took too long");
        }
        tcp.setSoTimeout((int) Math.min(left, perRead));
      }
    };
  }

  private static String read(String host, InputStream in) throws IOException, Failure {
    String status = line(in);
    String[] parts = status.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new Failure("sts-policy-fetch-error", "https://" + host + "/: not an HTTP response: " + status);
    }
    if (!parts[1].equals("200")) {
      // §3.3: "HTTP 3xx redirects MUST NOT be followed"; any other status is no policy either.
      throw new Failure("sts-policy-fetch-error", "https://" + host + "/.well-known/mta-sts.txt answered " + status);
    }
    long length = -1;
    boolean chunked = false;
    String type = null;
    int headBytes = 0;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      headBytes += h.length();
      if (headBytes > MAX_HEAD) {
        throw new Failure("sts-policy-fetch-error", "https://" + host + "/: response head over " + MAX_HEAD + " bytes");
      }
      int colon = h.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).strip();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "content-type" -> type = value.toLowerCase(Locale.ROOT);
        default -> { }
      }
    }
    // §3.3: the policy is served as "text/plain".
    if (type == null || !type.split(";", 2)[0].strip().equals("text/plain")) {
      throw new Failure("sts-policy-invalid", "https://" + host + "/: media type is " + type + ", not text/plain");
    }
    if (length > MAX_BODY) {
      throw tooLarge(host);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      for (long size = chunkSize(line(in)); size > 0; size = chunkSize(line(in))) {
        copy(in, body, size, host);
        line(in); // the CRLF after each chunk
      }
    } else if (length >= 0) {
      copy(in, body, length, host);
    } else {
      copy(in, body, -1, host);
    }
    return body.toString(StandardCharsets.UTF_8);
  }

  private static void copy(InputStream in, ByteArrayOutputStream body, long count, String host)
      throws IOException, Failure {
    byte[] buffer = new byte[8192];
    long left = count;
    while (count < 0 || left > 0) {
      int n = in.read(buffer, 0, count < 0 ? buffer.length : (int) Math.min(buffer.length, left));
      if (n < 0) {
        if (count < 0) {
          return;
        }
        throw new IOException("connection closed " + left + " bytes before the end of the body");
      }
      body.write(buffer, 0, n);
      left -= n;
      if (body.size() > MAX_BODY) {
        throw tooLarge(host);
      }
    }
  }

  private static Failure tooLarge(String host) {
    return new Failure("sts-policy-invalid", "https://" + host + "/: policy larger than " + MAX_BODY + " bytes");
  }

  private static long chunkSize(String line) throws IOException {
    String hex = line.split(";", 2)[0].strip();
    try {
      return Long.parseLong(hex, 16);
    } catch (NumberFormatException e) {
      throw new IOException("bad chunk size '" + line + "'");
    }
  }

  /** One header line without CRLF; at most 8 KB. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (line.size() > 8192) {
        throw new IOException("header line over 8 KB");
      }
      line.write(b);
    }
    if (b < 0 && line.size() == 0) {
      throw new IOException("connection closed before the response ended");
    }
    String s = line.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }
}
