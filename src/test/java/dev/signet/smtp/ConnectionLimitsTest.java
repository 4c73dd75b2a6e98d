package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application's connection pool is never turned away; strangers cannot take the slots of
 * clients.networks, nor hold one for long without authenticating.
 */
class ConnectionLimitsTest {
  @TempDir Path dir;

  private static String plain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** With the defaults: 50 sessions at once from 127.0.0.1, each then reconnecting right after QUIT. */
  @Test
  void aConnectionPoolFromTheNetworksIsNeverRefused() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<List<String>>> workers = new ArrayList<>();
      for (int w = 0; w < 50; w++) {
        workers.add(pool.submit(() -> {
          List<String> greetings = new ArrayList<>();
          for (int round = 0; round < 10; round++) {
            try (SmtpClient c = new SmtpClient(relay.port())) {
              String greeting = c.read();
              greetings.add(greeting);
              if (greeting.startsWith("220")) {
                c.command("EHLO pool.test");
                c.command("QUIT");
              }
            }
          }
          return greetings;
        }));
      }
      for (Future<List<String>> w : workers) {
        for (String greeting : w.get()) {
          assertTrue(greeting.startsWith("220 relay.test"), greeting);
        }
      }
    }
  }

  /** Outside the networks the per-address limit holds, but a session answered 221 no longer counts. */
  @Test
  void aStrangersSlotIsFreeTheMomentQuitIsAnswered() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "clients.networks: [192.0.2.0/24]", "limits.connections-per-ip: 2");
         SmtpClient held = new SmtpClient(relay.port())) {
      held.hello();
      for (int i = 0; i < 200; i++) {
        try (SmtpClient c = new SmtpClient(relay.port())) {
          String greeting = c.read();
          assertTrue(greeting.startsWith("220"), "round " + i + ": " + greeting);
          assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        }
      }
    }
  }

  @Test
  void strangersCannotTakeTheReservedSlots() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "clients.networks: [127.0.0.1/32]", "limits.connections: 4",
        "limits.connections-reserved: 2");
         SmtpClient s1 = new SmtpClient("127.0.0.2", relay.port());
         SmtpClient s2 = new SmtpClient("127.0.0.3", relay.port())) {
      s1.hello();
      s2.hello();
      try (SmtpClient s3 = new SmtpClient("127.0.0.4", relay.port())) {
        assertEquals("421 4.7.0 Too many connections, try again later", s3.read());
      }
      try (SmtpClient app1 = new SmtpClient(relay.port());
           SmtpClient app2 = new SmtpClient(relay.port())) {
        assertTrue(app1.hello().startsWith("250"));
        assertTrue(app2.hello().startsWith("250"));
        try (SmtpClient app3 = new SmtpClient(relay.port())) {
          assertEquals("421 4.7.0 Too many connections, try again later", app3.read(), "the total still applies");
        }
      }
    }
  }

  @Test
  void aStrangerIsDisconnectedAfterTheShortIdleTimeoutBeforeAuth() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "clients.networks: [192.0.2.0/24]",
        "limits.unauthenticated-idle-timeout: 300ms");
         SmtpClient c = new SmtpClient("127.0.0.2", relay.port())) {
      c.hello();
      long start = System.nanoTime();
      String reply = c.read(); // blocks until the relay gives up on the silent client
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(reply.startsWith("421"), reply);
      assertTrue(ms < 10_000, "closed after " + ms + " ms; limits.idle-timeout is 5 minutes");
      assertTrue(c.closedByServer());
    }
  }

  /**
   * The implicit-TLS port: TLS is layered over the watched socket, so a client that connects and never
   * starts its handshake is cut off by the same short idle timeout (the handshake read waits on it).
   */
  @Test
  void aSilentClientOnTheImplicitTlsPortIsDisconnectedAfterTheShortIdleTimeout() throws Exception {
    String[] all = java.util.stream.Stream.concat(
        java.util.stream.Stream.of("clients.networks: [192.0.2.0/24]", "limits.unauthenticated-idle-timeout: 300ms"),
        java.util.Arrays.stream(TestRelay.tls(dir))).toArray(String[]::new);
    try (TestRelay relay = TestRelay.start(dir, all);
         java.net.Socket silent = new java.net.Socket("127.0.0.1", relay.smtpsPort())) {
      silent.setSoTimeout(20_000);
      long start = System.nanoTime();
      // The relay waits for our ClientHello; at the timeout it ends the TLS layer (an alert record, 21)
      // and closes. Nothing else comes: no SMTP reply can be sent before a handshake.
      byte[] got;
      try {
        got = silent.getInputStream().readAllBytes();
      } catch (java.net.SocketException reset) {
        got = new byte[0];
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(got.length == 0 || got[0] == 21, "only a TLS alert before the close: " + got.length + " bytes");
      assertTrue(ms >= 250 && ms < 10_000, "closed after " + ms + " ms; the short idle timeout is 300 ms");
    }
  }

  /** Clients from the networks and authenticated strangers keep limits.idle-timeout; STARTTLS changes nothing. */
  @Test
  void theShortIdleTimeoutEndsWithAuthAndSurvivesStartTls() throws Exception {
    String[] settings = {"clients.networks: [127.0.0.3/32]", "limits.unauthenticated-idle-timeout: 200ms",
        TestRelay.users(dir)};
    String[] tls = TestRelay.tls(dir);
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(settings), java.util.Arrays.stream(tls))
        .toArray(String[]::new);
    try (TestRelay relay = TestRelay.start(dir, all);
         SmtpClient app = new SmtpClient("127.0.0.3", relay.port());
         SmtpClient user = new SmtpClient(relay.port());
         SmtpClient tlsStranger = new SmtpClient("127.0.0.2", relay.port())) {
      app.hello();
      user.hello();
      assertEquals("235 2.7.0 Authentication successful", user.command("AUTH PLAIN " + plain("alice", TestRelay.PASSWORD)));
      tlsStranger.hello();
      tlsStranger.startTls();
      long start = System.nanoTime();
      assertTrue(tlsStranger.read().startsWith("421"), "a stranger after STARTTLS still has the short timeout");
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 10_000, "closed after " + ms + " ms");
      // Both others have been idle at least as long as the stranger that was cut off.
      assertEquals("250 Ok", app.command("NOOP"));
      assertEquals("250 Ok", user.command("NOOP"));
    }
  }
}
