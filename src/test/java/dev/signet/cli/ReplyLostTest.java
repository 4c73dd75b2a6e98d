package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler gets an accepted message after the client has its 250 (Spool.acceptThenHandOn). A
 * client that resets the connection after its data must not leave the message on disk unscheduled
 * until the next start: it is delivered at once all the same (RFC 5321 §6.1 prefers that duplicate,
 * should the client send it again, to a loss). SubEthaSMTP writes replies through a PrintWriter, which
 * keeps a failed write to itself, and DataCommands hands the message on in a finally.
 */
class ReplyLostTest {
  @TempDir Path dir;

  @Test
  void aMessageWhoseClientResetTheConnectionBeforeItsReplyIsDeliveredAtOnce() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    try (TestDnsServer dns = TestDnsServer.start();
        ScriptedMx mx = ScriptedMx.start("127.0.0.3", 0)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3");
      Path config = OpsRig.config(dir, dns, mx.port()); // a message not handed on would wait for a restart
      try (Relay relay = OpsRig.start(config)) {
        // 8 MB: its fsync leaves time to reset the connection between the message's arrival in queue/
        // and the 250.
        String body = "From: <app@example.com>\r\nTo: <ok@dest.test>\r\nSubject: reset\r\n\r\n"
            + ("x".repeat(998) + "\r\n").repeat(8 * 1024);
        sendAndReset(relay.submissionPort(), body, dir.resolve("spool/queue"));
        Await.await("the message at the MX", Duration.ofSeconds(30), () -> mx.received().size() == 1);
        String metrics = OpsRig.get(relay.metricsPort(), "/metrics").body();
        assertEquals(1.0, OpsRig.sample(metrics, "signet_messages_received_total{result=\"accepted\"}"));
      }
    }
  }

  /**
   * One transaction whose client resets the connection (RST) as soon as its message is in {@code queue}:
   * on ext4 before the relay's fsync and 250 (a lone message is renamed in first), elsewhere after both.
   */
  private static void sendAndReset(int port, String body, Path queue) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(30_000);
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    OutputStream out = s.getOutputStream();
    assertTrue(OpsRig.reply(in).startsWith("220"));
    for (String command : new String[] {"EHLO client.test", "MAIL FROM:<app@example.com>", "RCPT TO:<ok@dest.test>"}) {
      OpsRig.write(out, command + "\r\n");
      String r = OpsRig.reply(in);
      assertTrue(r.startsWith("250"), command + ": " + r);
    }
    OpsRig.write(out, "DATA\r\n");
    assertTrue(OpsRig.reply(in).startsWith("354"));
    out.write(body.getBytes(StandardCharsets.ISO_8859_1));
    out.write("\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!hasMessage(queue)) { // polled closely: the fsync of 8 MB leaves milliseconds
      assertTrue(System.nanoTime() < deadline, "no message in " + queue + " after 30 s");
      java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }
    s.setSoLinger(true, 0); // close with RST: the relay's write of its reply fails
    s.close();
  }

  private static boolean hasMessage(Path queue) throws java.io.IOException {
    try (var files = Files.list(queue)) {
      return files.anyMatch(f -> f.getFileName().toString().endsWith(".msg"));
    }
  }
}
