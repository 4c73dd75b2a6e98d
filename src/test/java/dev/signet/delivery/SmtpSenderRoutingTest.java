package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.ScriptedMx;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which host gets the message: MX order, dead hosts, refusing hosts, DNS outcomes. */
class SmtpSenderRoutingTest {

  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  private ScriptedMx mx(String address) throws Exception {
    return fixture.track(ScriptedMx.start(address, fixture.port));
  }

  @Test
  void theLowestPreferenceMxReceivesTheMessage() throws Exception {
    fixture.mx("dest.test", 20, "backup.dest.test", "127.0.0.3");
    fixture.mx("dest.test", 10, "primary.dest.test", "127.0.0.2");
    ScriptedMx primary = mx("127.0.0.2");
    ScriptedMx backup = mx("127.0.0.3");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    RecipientOutcome.Delivered delivered = assertInstanceOf(RecipientOutcome.Delivered.class, result.outcomes().get(0));
    assertEquals(Optional.of("primary.dest.test"), delivered.reply().remoteMta());
    assertEquals(1, primary.received().size());
    assertEquals(0, backup.received().size());
  }

  @Test
  void oneAttemptTriesAtMostFiveMxHosts() throws Exception {
    for (int i = 1; i <= 5; i++) {
      fixture.mx("dest.test", 10 * i, "dead" + i + ".dest.test", "127.0.1." + i); // nothing listens there
    }
    fixture.mx("dest.test", 60, "sixth.dest.test", "127.0.0.3");
    ScriptedMx sixth = mx("127.0.0.3");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals(0, sixth.received().size(), "the sixth MX is not tried in the same attempt");
    assertEquals(5, SmtpSender.MAX_MX_HOSTS);
  }

  @Test
  void aDeadPreferredMxMovesDeliveryToTheNextMx() throws Exception {
    fixture.mx("dest.test", 10, "dead.dest.test", "127.0.0.9"); // nothing listens there
    fixture.mx("dest.test", 20, "backup.dest.test", "127.0.0.3");
    ScriptedMx backup = mx("127.0.0.3");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, backup.received().size());
  }

  @Test
  void allMxHostsDownIsATemporaryFailure() throws Exception {
    fixture.mx("dest.test", 10, "dead1.dest.test", "127.0.0.9");
    fixture.mx("dest.test", 20, "dead2.dest.test", "127.0.0.10");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "b@dest.test"));

    assertEquals(2, result.deferred().size(), result.toString());
    String text = result.deferred().get(0).reply().text();
    assertTrue(text.contains("dead1.dest.test") && text.contains("dead2.dest.test"), text);
  }

  @Test
  void a421GreetingMovesDeliveryToTheNextMx() throws Exception {
    fixture.mx("dest.test", 10, "busy.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "backup.dest.test", "127.0.0.3");
    ScriptedMx busy = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).reply("GREETING", "421 4.3.2 too busy"));
    ScriptedMx backup = mx("127.0.0.3");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, busy.sessions());
    assertEquals(1, backup.received().size());
  }

  @Test
  void a554GreetingFromEveryHostIsAPermanentFailure() throws Exception {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).reply("GREETING", "554 5.7.1 go away"));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    RecipientOutcome.Failed failed = assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0));
    assertEquals("5.7.1", failed.reply().status());
  }

  @Test
  void aDomainWithoutMxIsDeliveredToItsOwnAddress() throws Exception {
    fixture.dns.add("implicit.test. 300 IN A 127.0.0.4");
    ScriptedMx mx = mx("127.0.0.4");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@implicit.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals("rcpt@implicit.test", mx.received().get(0).recipients().get(0));
  }

  @Test
  void nullMxFailsAtOnceWithoutContactingAnyHost() throws Exception {
    fixture.dns.add("nomail.test. 300 IN MX 0 .", "nomail.test. 300 IN A 127.0.0.2");
    ScriptedMx mx = mx("127.0.0.2");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@nomail.test"));

    RecipientOutcome.Failed failed = assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0));
    assertEquals("5.1.10", failed.reply().status());
    assertEquals(556, failed.reply().code());
    assertEquals(0, mx.received().size());
  }

  @Test
  void nxdomainIsAPermanentFailure() throws Exception {
    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@nowhere.test"));

    RecipientOutcome.Failed failed = assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0));
    assertEquals("5.1.2", failed.reply().status());
    assertTrue(failed.reply().remoteMta().isEmpty());
  }

  @Test
  void servfailIsATemporaryFailure() throws Exception {
    fixture.mx("broken.test", 10, "mx.broken.test", "127.0.0.2");
    fixture.dns.servfail("broken.test");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@broken.test"));

    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals("4.4.3", deferred.reply().status());
  }

  @Test
  void aDnsTimeoutIsATemporaryFailure() throws Exception {
    fixture.mx("slow.test", 10, "mx.slow.test", "127.0.0.2");
    fixture.dns.drop("slow.test");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@slow.test"));

    assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
  }

  @Test
  void aMissingMessageFileIsDeferredNotFailed() throws Exception {
    DeliveryRequest request = new DeliveryRequest("Q9", "sender@example.com", List.of("rcpt@dest.test"),
        java.nio.file.Path.of("/nonexistent/signet/message"));

    DeliveryResult result = fixture.sender().deliver(request);

    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals("4.3.0", deferred.reply().status());
  }

  /** DNS may say anything: these are no mail hosts, and a permanent failure rather than five days of retries. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255"})
  void anMxAtAnUndialableAddressIsNeverConnected(String address) {
    fixture.mx("dest.test", 10, "mx.dest.test", address);

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.failed().size(), result.toString());
    String text = result.failed().get(0).reply().text();
    assertTrue(text.startsWith("not connecting to mx.dest.test") && text.contains(address + " is a"), text);
  }

  @Test
  void invalidAddressLiteralsAreNeverResolved() throws Exception {
    for (String literal : List.of("[IPv6:dead.beef]", "[127.1]", "[2130706433]", "[0]")) {
      DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@" + literal));
      assertEquals(1, result.failed().size(), literal + ": " + result);
      assertTrue(result.failed().get(0).reply().text().contains("invalid address literal " + literal),
          result.failed().get(0).reply().text());
    }
  }
}
