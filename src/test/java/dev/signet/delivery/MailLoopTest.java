package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A message that would come back to this relay is bounced with a clear reason, not sent round again. */
class MailLoopTest {
  @TempDir Path dir;
  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  private ScriptedMx mx(String address, String name) throws Exception {
    return fixture.track(ScriptedMx.start(address, fixture.port).hostName(name));
  }

  private SmtpSender listeningOn(InetSocketAddress own) {
    MxResolver resolver = new MxResolver(List.of(fixture.dns.address()),
        new MxResolver.Settings(Duration.ofMillis(500), 1), new Random());
    return fixture.track(new SmtpSender("relay.signet.test",
        fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), resolver, DeliveryFixture.fast(null),
        List.of(own)));
  }

  @Test
  void anMxThatIsThisRelaysListenerIsAPermanentLoop() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
    ScriptedMx self = mx("127.0.0.2", "other-name.test"); // stands in for our own listener

    DeliveryResult result = listeningOn(new InetSocketAddress("127.0.0.2", fixture.port))
        .deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.failed().size(), result.toString());
    Reply reply = result.failed().get(0).reply();
    assertEquals("5.4.6", reply.status());
    assertTrue(reply.text().contains("mail for dest.test loops back to myself"), reply.text());
    assertEquals(0, self.received().size());
  }

  @Test
  void aWildcardListenerCoversLoopbackToo() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
    DeliveryResult result = listeningOn(new InetSocketAddress("0.0.0.0", fixture.port))
        .deliver(request("plain.eml", "rcpt@dest.test"));
    assertEquals(1, result.failed().size(), result.toString());
  }

  @Test
  void aHostAnsweringEhloWithOurHostnameIsAPermanentLoop() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
    ScriptedMx echo = mx("127.0.0.2", "RELAY.signet.test");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.failed().size(), result.toString());
    Reply reply = result.failed().get(0).reply();
    assertEquals(554, reply.code());
    assertTrue(reply.text().contains("loops back to myself") && reply.text().contains("relay.signet.test"), reply.text());
    assertEquals(0, echo.received().size());
  }

  @Test
  void aLoopingBackupMxIsSkippedAndTheOtherUsed() throws Exception {
    fixture.mx("dest.test", 10, "loop.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "good.dest.test", "127.0.0.3");
    mx("127.0.0.2", "relay.signet.test");
    ScriptedMx good = mx("127.0.0.3", "good.dest.test");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, good.received().size());
  }

  @Test
  void aMessageWithMoreThan50ReceivedFieldsIsNotSent() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.3");
    ScriptedMx mx = mx("127.0.0.3", "mx.dest.test");
    byte[] plain = Files.readAllBytes(DeliveryFixture.fixture("plain.eml"));
    Path fifty = dir.resolve("fifty.eml");
    Path more = dir.resolve("fifty-one.eml");
    String received = "Received: from a.test by b.test; Sat, 5 Dec 2026 10:00:00 +0000\r\n";
    Files.write(fifty, concat(received.repeat(50), plain));
    Files.write(more, concat(received.repeat(49) + "received:\r\n  from c.test by d.test; Sat, 5 Dec 2026 10:00:00 +0000\r\n"
        + received, plain));

    SmtpSender sender = fixture.sender();
    DeliveryResult loop = sender.deliver(new DeliveryRequest("Q2", "s@example.com", List.of("r@dest.test"), more));
    assertEquals(1, loop.failed().size(), loop.toString());
    assertEquals("too many hops: 51 Received header fields (limit 50), mail loop", loop.failed().get(0).reply().text());
    assertEquals(1, sender.deliver(new DeliveryRequest("Q3", "s@example.com", List.of("r@dest.test"), fifty))
        .delivered().size());
    assertEquals(1, mx.received().size());
  }

  private static byte[] concat(String head, byte[] rest) {
    byte[] h = head.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] out = java.util.Arrays.copyOf(h, h.length + rest.length);
    System.arraycopy(rest, 0, out, h.length, rest.length);
    return out;
  }
}
