package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault suite: an MX that accepts DATA and then stops reading, mid-message (a raw
 * ServerSocket with a small receive buffer). The sender's write times out (dataBlock, RFC 5321
 * §4.5.3.2.5; 1 s in tests) and the recipient is deferred, not failed and not hung.
 */
class StalledMxTest {
  @TempDir Path dir;

  @Test
  void anMxThatStopsReadingMidDataDefers() throws Exception {
    try (DeliveryFixture fixture = new DeliveryFixture()) {
      fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
      Path message = dir.resolve("big.eml");
      String line = "x".repeat(76) + "\r\n";
      Files.writeString(message, "From: app@example.com\r\nTo: rcpt@dest.test\r\nSubject: big\r\n\r\n"
          + line.repeat(100_000)); // ~7.8 MB: more than any socket buffer holds
      CountDownLatch inData = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      try (ServerSocket mx = new ServerSocket()) {
        mx.setReceiveBufferSize(4096);
        mx.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), fixture.port));
        Thread server = Thread.ofPlatform().daemon().start(() -> {
          try (Socket c = mx.accept()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = c.getOutputStream();
            out.write("220 mx.dest.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
            for (String cmd = in.readLine(); cmd != null; cmd = in.readLine()) {
              String reply = cmd.startsWith("EHLO") ? "250-mx.dest.test\r\n250 8BITMIME"
                  : cmd.equals("DATA") ? "354 go ahead" : "250 ok";
              out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
              if (cmd.equals("DATA")) {
                inData.countDown();
                release.await(30, TimeUnit.SECONDS); // and read nothing more
                return;
              }
            }
          } catch (Exception e) {
            // the sender gave up and closed: expected
          }
        });
        long start = System.nanoTime();
        DeliveryResult result = fixture.sender()
            .deliver(new DeliveryRequest("Q1", "app@example.com", List.of("rcpt@dest.test"), message));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        release.countDown();
        server.join(5000);

        assertTrue(inData.await(0, TimeUnit.SECONDS), "the MX got as far as DATA");
        RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0),
            result.toString());
        assertTrue(deferred.reply().code() / 100 == 4, deferred.reply().toString());
        assertTrue(took.toSeconds() < 15, "gave up after " + took);
        System.out.println("stalled MX: deferred after " + took.toMillis() + " ms: " + deferred.reply());
      }
    }
  }
}
