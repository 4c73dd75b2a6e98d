package dev.signet.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A receiving MX on a raw loopback socket that takes its time over the reply to the final "."
 * (RFC 5321 §4.5.3.2.6 allows it 10 minutes): it answers 250 after {@link #answerAfter} or, while
 * that is null, never. It counts the messages whose data ended, the ones it acknowledged with 250,
 * and the sessions the client closed while waiting for that reply.
 */
final class SlowMx implements AutoCloseable {
  private final ServerSocket socket;
  private final Thread acceptor;
  private final List<Socket> clients = new CopyOnWriteArrayList<>();
  private volatile Duration answerAfter;
  final AtomicInteger dataEnded = new AtomicInteger();
  final AtomicInteger acknowledged = new AtomicInteger();
  final AtomicInteger cutOffWhileWaiting = new AtomicInteger();

  SlowMx(Duration answerAfter) throws IOException {
    this.answerAfter = answerAfter;
    this.socket = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
    this.acceptor = Thread.ofPlatform().daemon().name("slow-mx").start(this::accept);
  }

  int port() {
    return socket.getLocalPort();
  }

  /** From now on, answer the final "." after {@code delay}; null: never. */
  void answerAfter(Duration delay) {
    this.answerAfter = delay;
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket client = socket.accept();
        clients.add(client);
        Thread.ofVirtual().name("slow-mx-session").start(() -> converse(client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void converse(Socket client) {
    try (client) {
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1));
      OutputStream out = client.getOutputStream();
      send(out, "220 mx.dest.test ESMTP slow");
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String command = line.length() >= 4 ? line.substring(0, 4).toUpperCase(java.util.Locale.ROOT) : line;
        switch (command) {
          case "EHLO" -> send(out, "250-mx.dest.test\r\n250 8BITMIME");
          case "QUIT" -> {
            send(out, "221 2.0.0 bye");
            return;
          }
          case "DATA" -> {
            send(out, "354 go ahead");
            for (String data = in.readLine(); data != null && !data.equals("."); data = in.readLine()) {
              // the message itself does not matter here
            }
            dataEnded.incrementAndGet();
            if (!waitToAnswer(client)) {
              cutOffWhileWaiting.incrementAndGet();
              return;
            }
            send(out, "250 2.0.0 queued");
            acknowledged.incrementAndGet();
          }
          default -> send(out, "250 2.0.0 ok"); // MAIL, RCPT, RSET, NOOP
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  /** Waits as told before the reply to "."; false if the client closed the session meanwhile. */
  private boolean waitToAnswer(Socket client) throws IOException {
    long start = System.nanoTime();
    client.setSoTimeout(20);
    // Bounded: at most two minutes, whatever the test forgot to say.
    while (System.nanoTime() - start < Duration.ofMinutes(2).toNanos()) {
      Duration delay = answerAfter;
      if (delay != null && System.nanoTime() - start >= delay.toNanos()) {
        client.setSoTimeout(0);
        return true;
      }
      try {
        if (client.getInputStream().read() < 0) {
          return false; // end of stream: the client closed the session
        }
      } catch (java.net.SocketTimeoutException e) {
        // still there
      } catch (IOException e) {
        return false; // reset: the client dropped the session
      }
    }
    return false;
  }

  private static void send(OutputStream out, String reply) throws IOException {
    out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket c : clients) {
      c.close();
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
