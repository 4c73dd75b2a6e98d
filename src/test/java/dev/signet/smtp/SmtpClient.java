package dev.signet.smtp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLSocket;

/** A raw SMTP client for protocol-level checks: sends exactly the bytes given, reads whole replies. */
final class SmtpClient implements Closeable {
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  SmtpClient(String localAddress, int port) throws IOException {
    socket = new Socket();
    socket.bind(new InetSocketAddress(localAddress, 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(20_000);
    streams();
  }

  SmtpClient(int port) throws IOException {
    this("127.0.0.1", port);
  }

  /** Wraps an already connected socket (implicit TLS). */
  SmtpClient(Socket connected) throws IOException {
    socket = connected;
    socket.setSoTimeout(20_000);
    streams();
  }

  private void streams() throws IOException {
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  Socket socket() {
    return socket;
  }

  /** One reply, all lines joined with "\n" (e.g. "250-relay.test\n250 SIZE 100"). */
  String read() throws IOException {
    StringBuilder reply = new StringBuilder();
    while (true) {
      String line = line();
      reply.append(line);
      if (line.length() < 4 || line.charAt(3) != '-') {
        return reply.toString();
      }
      reply.append('\n');
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new EOFException("connection closed; got so far: " + buffer.toString(StandardCharsets.UTF_8));
      }
      buffer.write(b);
    }
    String line = buffer.toString(StandardCharsets.UTF_8);
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }

  /** True once the server has closed the connection (reads EOF). */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (IOException e) {
      return true;
    }
  }

  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  void write(String text) throws IOException {
    write(text.getBytes(StandardCharsets.UTF_8));
  }

  String command(String line) throws IOException {
    write(line + "\r\n");
    return read();
  }

  /** Greeting + EHLO. */
  String hello() throws IOException {
    String greeting = read();
    if (!greeting.startsWith("220 ")) {
      throw new IOException("no greeting: " + greeting);
    }
    return command("EHLO client.test");
  }

  void startTls() throws IOException {
    String reply = command("STARTTLS");
    if (!reply.startsWith("220")) {
      throw new IOException("STARTTLS refused: " + reply);
    }
    SSLSocket tls = (SSLSocket) TestRelay.clientFactory().createSocket(socket, "relay.test", socket.getPort(), true);
    tls.startHandshake();
    socket = tls;
    streams();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
