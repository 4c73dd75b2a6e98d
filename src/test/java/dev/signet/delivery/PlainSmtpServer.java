package dev.signet.delivery;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A bare SMTP server on a raw socket for what SubEthaSMTP always does differently: it advertises
 * only the EHLO extensions given (SubEthaSMTP always offers 8BITMIME and SMTPUTF8), or, when
 * {@code silent}, accepts connections and never says a word (greeting timeout). If it offers
 * STARTTLS, its TLS is broken: it answers the handshake with text and hangs up.
 */
final class PlainSmtpServer implements AutoCloseable {

  private final ServerSocket socket;
  private final List<String> extensions;
  private final boolean silent;
  final List<String> commands = new CopyOnWriteArrayList<>();
  /** The data of each message received, dot-unstuffed, lines ending in CRLF (read as UTF-8). */
  final List<String> messages = new CopyOnWriteArrayList<>();
  private final List<Socket> clients = new CopyOnWriteArrayList<>();
  private final Thread thread;

  private PlainSmtpServer(String address, int port, List<String> extensions, boolean silent) throws IOException {
    this.socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
    this.extensions = extensions;
    this.silent = silent;
    this.thread = Thread.ofPlatform().daemon().name("plain-smtp").start(this::serve);
  }

  static PlainSmtpServer offering(String address, int port, String... extensions) throws IOException {
    return new PlainSmtpServer(address, port, List.of(extensions), false);
  }

  static PlainSmtpServer silent(String address, int port) throws IOException {
    return new PlainSmtpServer(address, port, List.of(), true);
  }

  private void serve() {
    while (!socket.isClosed()) {
      try {
        Socket client = socket.accept();
        clients.add(client);
        if (!silent) {
          Thread.ofVirtual().start(() -> converse(client));
        }
      } catch (IOException e) {
        return;
      }
    }
  }

  private void converse(Socket client) {
    try (client) {
      client.setSoTimeout(10_000);
      InputStream in = client.getInputStream();
      OutputStream out = client.getOutputStream();
      BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      say(out, "220 plain.test ESMTP");
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        commands.add(line);
        String verb = line.length() < 4 ? line : line.substring(0, 4).toUpperCase(java.util.Locale.ROOT);
        switch (verb) {
          case "EHLO" -> {
            StringBuilder reply = new StringBuilder("250" + (extensions.isEmpty() ? " " : "-") + "plain.test");
            for (int i = 0; i < extensions.size(); i++) {
              reply.append("\r\n250").append(i == extensions.size() - 1 ? " " : "-").append(extensions.get(i));
            }
            say(out, reply.toString());
          }
          case "DATA" -> {
            say(out, "354 go ahead");
            StringBuilder message = new StringBuilder();
            for (String data = lines.readLine(); data != null && !data.equals("."); data = lines.readLine()) {
              message.append(data.startsWith(".") ? data.substring(1) : data).append("\r\n");
            }
            messages.add(message.toString());
            say(out, "250 2.0.0 ok");
          }
          case "STAR" -> { // STARTTLS, offered but broken: agree, then answer the handshake with junk
            say(out, "220 2.0.0 ready");
            say(out, "this is not TLS");
            return;
          }
          case "QUIT" -> {
            say(out, "221 bye");
            return;
          }
          default -> say(out, "250 2.0.0 ok");
        }
      }
    } catch (IOException e) {
      // client went away
    }
  }

  private static void say(OutputStream out, String reply) throws IOException {
    out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket c : clients) {
      c.close();
    }
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
