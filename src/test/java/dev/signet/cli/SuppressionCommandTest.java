package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet suppression} on a stopped relay's spool, and what a running relay does with the list. */
class SuppressionCommandTest {
  @TempDir Path dir;

  private OpsRig.Run signet(Path config, String... args) {
    return OpsRig.signet("suppression", config, args);
  }

  @Test
  void addImportListAndRemoveOnAStoppedRelaysSpool() throws Exception {
    Path config = OpsRig.config(dir, null, 25);
    OpsRig.Run add = signet(config, "add", "Someone@Dest.test", "--ttl", "2h");
    assertEquals(0, add.exit(), add.err());
    assertEquals("suppressed 1 address\n", add.out());
    Path file = dir.resolve("bounced.txt");
    Files.writeString(file, "# from the old provider\na@dest.test\n\nb@dest.test\n");
    OpsRig.Run imported = signet(config, "import", file.toString());
    assertEquals("suppressed 2 addresses\n", imported.out(), imported.err());

    List<String> lines = signet(config, "list").out().lines().toList();
    assertEquals(4, lines.size(), lines.toString());
    assertTrue(lines.get(2).matches("someone@dest\\.test  since=\\S+  until=\\S+  reason=manual"), lines.get(2));
    assertEquals("3 suppressed addresses", lines.get(3));

    assertEquals(0, signet(config, "remove", "a@dest.test").exit());
    OpsRig.Run again = signet(config, "remove", "a@dest.test");
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("not suppressed: a@dest.test"), again.err());
    assertEquals("2 suppressed addresses", signet(config, "list").out().lines().reduce((x, y) -> y).orElseThrow());

    Files.writeString(file, "c@dest.test\nnot an address\n");
    OpsRig.Run bad = signet(config, "import", file.toString());
    assertEquals(1, bad.exit());
    assertTrue(bad.err().contains(file + ":2: not an email address"), bad.err());
  }

  @Test
  void withARunningRelayTheCommandsGoThroughItsAdminApi() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    Path config = OpsRig.config(dir, null, 25);
    try (Relay relay = OpsRig.start(config)) {
      OpsRig.Run add = signet(config, "add", "late@dest.test");
      assertEquals(0, add.exit(), add.err());
      assertEquals("suppressed 1 address (by the running relay)\n", add.out());
      assertTrue(OpsRig.send(relay.submissionPort(), "app@example.com", OpsRig.message("app@example.com", "x"),
          "late@dest.test").startsWith("550 5.1.1 <late@dest.test>: suppressed since"), "in force at once");
      assertTrue(signet(config, "list").out().startsWith("late@dest.test  since="));
      assertEquals("removed late@dest.test (by the running relay)\n", signet(config, "remove", "late@dest.test").out());
      OpsRig.Run again = signet(config, "remove", "late@dest.test");
      assertEquals(1, again.exit());
      assertTrue(again.err().contains("not suppressed: late@dest.test"), again.err());
    }
  }

  @Test
  void withActionEventASuppressedRecipientIsAcceptedAndBouncedWithoutAskingTheMx() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    int mxPort = OpsRig.freePort();
    try (TestDnsServer dns = TestDnsServer.start();
        WebhookReceiver hook = WebhookReceiver.start(0, EventsTest.SECRET);
        ScriptedMx mx = OpsRig.refusingMx("127.0.0.3", mxPort)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3",
          "example.com. 300 IN MX 10 mx.dest.test.");
      Path config = OpsRig.config(dir, dns, mxPort, "suppression.action: event",
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + EventsTest.SECRET + "'}]");
      assertEquals(0, signet(config, "add", "old@dest.test").exit());
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "mixed"), "ok@dest.test", "old@dest.test");
        assertTrue(reply.startsWith("250 "), reply);
        Await.await("suppressed and delivered events", Duration.ofSeconds(30),
            () -> hook.of("suppressed", "old@dest.test").size() == 1 && hook.of("delivered", "ok@dest.test").size() == 1
                && hook.of("dsn-sent", "old@dest.test").size() == 1);
        JsonNode suppressed = hook.of("suppressed", "old@dest.test").get(0);
        assertEquals("5.1.1", suppressed.get("status").asText());
        assertTrue(suppressed.get("reply").asText().contains("suppressed since"), suppressed.toString());
        assertTrue(hook.of("accepted", "old@dest.test").isEmpty());
        Await.await("the bounce reached the sender", Duration.ofSeconds(30), () -> mx.delivered().contains("app@example.com"));
        assertEquals(List.of("ok@dest.test", "app@example.com"), List.copyOf(mx.delivered()),
            "the MX never saw the suppressed recipient");
      }
    }
  }
}
