package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.fixture;
import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What happens inside one session: replies per recipient, the bytes, extensions, TLS, timeouts, reuse. */
class SmtpSenderTransactionTest {

  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  @BeforeEach
  void start() {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
  }

  private ScriptedMx mx() throws Exception {
    return fixture.track(ScriptedMx.start("127.0.0.2", fixture.port));
  }

  @Test
  void theBytesOnTheWireAreTheFileBytes() throws Exception {
    ScriptedMx mx = mx();

    DeliveryResult result = fixture.sender().deliver(request("dots-and-8bit.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    // The MX hands over the data dot-unstuffed, byte for byte: equal to the file means nothing was
    // added, re-encoded, re-folded or left stuffed.
    assertArrayEquals(Files.readAllBytes(fixture("dots-and-8bit.eml")), mx.received().get(0).data());
  }

  @Test
  void recipientsGetTheirOwnOutcomes() throws Exception {
    ScriptedMx mx = mx().refuse("busy@dest.test", "450 4.2.1 mailbox busy").refuse("gone@dest.test", "550 5.1.1 no such user");

    DeliveryResult result = fixture.sender().deliver(
        request("plain.eml", "ok@dest.test", "busy@dest.test", "gone@dest.test"));

    List<RecipientOutcome> o = result.outcomes();
    assertInstanceOf(RecipientOutcome.Delivered.class, o.get(0));
    RecipientOutcome.Deferred busy = assertInstanceOf(RecipientOutcome.Deferred.class, o.get(1));
    assertEquals(450, busy.reply().code());
    assertEquals("4.2.1", busy.reply().status());
    RecipientOutcome.Failed gone = assertInstanceOf(RecipientOutcome.Failed.class, o.get(2));
    assertEquals("5.1.1", gone.reply().status());
    assertTrue(gone.reply().text().contains("no such user"), gone.reply().text());
    assertEquals(Optional.of("mx.dest.test"), gone.reply().remoteMta());
    assertEquals(List.of("ok@dest.test"), mx.received().get(0).recipients());
  }

  @ParameterizedTest(name = "PIPELINING offered: {0}")
  @ValueSource(booleans = {true, false})
  void mailRcptAndDataGoOutTogetherOnlyWhereTheHostOffersPipelining(boolean offered) throws Exception {
    ScriptedMx mx = (offered ? mx() : mx().extensions("8BITMIME", "SIZE 100000000"))
        .refuse("gone@dest.test", "550 5.1.1 no such user");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "ok@dest.test", "gone@dest.test"));

    assertEquals(List.of("ok@dest.test"), result.delivered().stream().map(RecipientOutcome::recipient).toList());
    assertEquals("5.1.1", result.failed().get(0).reply().status());
    // Pipelined, RCPT and DATA were there when MAIL was read; otherwise RCPT waited for MAIL's reply.
    assertEquals(offered ? 1 : 0, mx.mailWithMoreBehind(), mx.commands().toString());
    assertEquals(List.of("ok@dest.test"), mx.received().get(0).recipients());
  }

  @Test
  void withoutPipeliningNoRcptFollowsARefusedMailAndNoDataARefusedRcpt() throws Exception {
    ScriptedMx refusing = mx().extensions("SIZE 100000000").reply("MAIL", "553 5.7.1 sender rejected");
    assertEquals(1, fixture.sender().deliver(request("plain.eml", "a@dest.test")).failed().size());
    assertEquals(0, refusing.rcptCommands());
    refusing.close();

    ScriptedMx mx = mx().extensions("SIZE 100000000").refuse("gone@dest.test", "550 5.1.1 no such user");
    assertEquals(1, fixture.sender().deliver(request("plain.eml", "gone@dest.test")).failed().size());
    assertFalse(mx.commands().contains("DATA"), mx.commands().toString());
  }

  @Test
  void aDataTakenAfterEveryRcptWasRefusedIsEndedEmptyAndTheSessionGoesOn() throws Exception {
    // RFC 2920 §3.1 has a pipelining server refuse that DATA; this one does not.
    ScriptedMx mx = mx().dataWithoutRecipients().refuse("gone@dest.test", "550 5.1.1 no such user");
    SmtpSender sender = fixture.sender();

    DeliveryResult refused = sender.deliver(request("plain.eml", "gone@dest.test"));
    DeliveryResult next = sender.deliver(request("plain.eml", "ok@dest.test"));

    assertEquals("5.1.1", refused.failed().get(0).reply().status(), refused.toString());
    assertEquals(1, next.delivered().size(), next.toString());
    assertEquals(0, mx.received().get(0).data().length);
    assertEquals(List.of(), mx.received().get(0).recipients());
    assertEquals(List.of("ok@dest.test"), mx.received().get(1).recipients());
    assertEquals(1, mx.sessions());
  }

  @Test
  void a421ToPipelinedMailDecidesWithTheHostsWordsThoughTheHostHangsUp() throws Exception {
    // The host closes right after its 421 (RFC 5321 §3.8): the replies to RCPT and DATA never come.
    ScriptedMx mx = mx().reply("MAIL", "421 4.7.0 Try again later, closing connection");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "b@dest.test"));

    assertEquals(2, result.deferred().size(), result.toString());
    for (RecipientOutcome.Deferred d : result.deferred()) {
      assertEquals(421, d.reply().code());
      assertEquals("4.7.0", d.reply().status());
      assertTrue(d.reply().text().contains("Try again later"), d.reply().text());
    }
    assertEquals(1, mx.sessions()); // not tried again at once on a new connection
  }

  @Test
  void a421ToAPipelinedRcptDefersTheRecipientsTheHostAcceptedBeforeIt() throws Exception {
    ScriptedMx mx = mx().script("b@dest.test", "421 4.7.0 too many messages, closing connection")
        .refuse("c@dest.test", "550 5.1.1 no such user");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "c@dest.test", "b@dest.test"));

    assertEquals(List.of("a@dest.test", "b@dest.test"),
        result.deferred().stream().map(RecipientOutcome::recipient).toList(), result.toString());
    result.deferred().forEach(d -> assertEquals("4.7.0", d.reply().status()));
    assertEquals("5.1.1", result.failed().get(0).reply().status());
    assertEquals(0, mx.received().size());
  }

  @Test
  void aRefusedSenderFailsEveryRecipient() throws Exception {
    ScriptedMx mx = mx().reply("MAIL", "553 5.7.1 sender rejected");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "b@dest.test"));

    assertEquals(2, result.failed().size(), result.toString());
    assertEquals("5.7.1", result.failed().get(1).reply().status());
    assertEquals(0, mx.received().size());
  }

  @Test
  void aTemporarilyRefusedSenderDefersEveryRecipient() throws Exception {
    mx().reply("MAIL", "451 4.7.1 greylisted, come back later");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "b@dest.test"));

    assertEquals(2, result.deferred().size(), result.toString());
    assertEquals("4.7.1", result.deferred().get(0).reply().status());
  }

  @Test
  void everyRecipientRefusedMeansNoData() throws Exception {
    ScriptedMx mx = mx().refuse("gone@dest.test", "550 5.1.1 no such user");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "gone@dest.test"));

    assertEquals(1, result.failed().size(), result.toString());
    assertEquals(0, mx.received().size());
  }

  @Test
  void aRefusalAfterTheDataFailsTheAcceptedRecipients() throws Exception {
    mx().reply(".", "554 5.7.1 spam detected").refuse("gone@dest.test", "550 5.1.1 no such user");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test", "gone@dest.test"));

    assertEquals("5.7.1", assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0)).reply().status());
    assertEquals("5.1.1", assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(1)).reply().status());
  }

  @Test
  void aTemporaryRefusalAfterTheDataDefers() throws Exception {
    mx().reply(".", "451 4.3.0 try again later");

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "a@dest.test"));

    assertEquals("4.3.0", assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0)).reply().status());
  }

  @Test
  void theNullSenderIsSentAsAnEmptyReversePath() throws Exception {
    ScriptedMx mx = mx();

    fixture.sender().deliver(new DeliveryRequest("Q2", "", List.of("rcpt@dest.test"), fixture("plain.eml")));

    assertEquals("", mx.received().get(0).from());
  }

  @Test
  void starttlsIsUsedWhenOffered() throws Exception {
    ScriptedMx mx = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port)
        .starttls(TestCa.create("Test Root").issue("mx.dest.test")));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(mx.received().get(0).tls(), "delivered, but not over TLS");
  }

  @Test
  void aBrokenStarttlsFallsBackToPlaintextWhenTlsIsOpportunistic() throws Exception {
    ScriptedMx broken = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).brokenStarttls().extensions("8BITMIME"));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(broken.commands().contains("STARTTLS"), broken.commands().toString());
    assertTrue(broken.commands().contains("DATA"), broken.commands().toString());
  }

  @Test
  void aBrokenStarttlsDefersWhenTlsIsRequired() throws Exception {
    ScriptedMx broken = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).brokenStarttls().extensions());
    SmtpSender sender = fixture.sender(
        fixture.delivery(SignetConfig.TlsMode.REQUIRED, Optional.empty()), DeliveryFixture.fast(null));

    DeliveryResult result = sender.deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals("4.7.5", assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0)).reply().status());
    assertFalse(broken.commands().contains("DATA"), broken.commands().toString());
  }

  @Test
  void plaintextIsUsedWhenStarttlsIsNotOffered() throws Exception {
    ScriptedMx mx = mx();

    fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertFalse(mx.received().get(0).tls());
  }

  @Test
  void requiredTlsWithoutStarttlsDefers() throws Exception {
    ScriptedMx mx = mx();
    SmtpSender sender = fixture.sender(
        fixture.delivery(SignetConfig.TlsMode.REQUIRED, Optional.empty()), DeliveryFixture.fast(null));

    DeliveryResult result = sender.deliver(request("plain.eml", "rcpt@dest.test"));

    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertEquals("4.7.4", deferred.reply().status());
    assertEquals(0, mx.received().size());
  }

  @Test
  void eightBitContentToAServerWithout8bitmimeFails() throws Exception {
    ScriptedMx plain = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("SIZE 100000"));

    DeliveryResult result = fixture.sender().deliver(request("dots-and-8bit.eml", "rcpt@dest.test"));

    RecipientOutcome.Failed failed = assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0));
    assertEquals("5.6.3", failed.reply().status());
    assertTrue(failed.reply().text().contains("8BITMIME"), failed.reply().text());
    assertFalse(plain.commands().stream().anyMatch(c -> c.startsWith("MAIL")), plain.commands().toString());
  }

  @Test
  void eightBitContentIsDeclaredWithBody8bitmime() throws Exception {
    ScriptedMx plain = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME", "SIZE 100000"));

    DeliveryResult result = fixture.sender().deliver(request("dots-and-8bit.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    long size = Files.size(fixture("dots-and-8bit.eml"));
    assertTrue(plain.commands().contains("MAIL FROM:<sender@example.com> BODY=8BITMIME SIZE=" + size), plain.commands().toString());
  }

  @Test
  void utf8HeadersToAServerWithoutSmtputf8Fail() throws Exception {
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME"));

    DeliveryResult result = fixture.sender().deliver(request("utf8-headers.eml", "rcpt@dest.test"));

    assertEquals("5.6.9", assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0)).reply().status());
  }

  @Test
  void aNonAsciiAddressIsSentWithSmtputf8() throws Exception {
    ScriptedMx plain = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME", "SMTPUTF8"));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "jörg@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertTrue(plain.commands().contains("RCPT TO:<jörg@dest.test>"), plain.commands().toString());
    assertTrue(plain.commands().stream().anyMatch(c -> c.startsWith("MAIL FROM:") && c.endsWith(" SMTPUTF8")),
        plain.commands().toString());
  }

  @Test
  void aMessageOverTheServersSizeLimitFails() throws Exception {
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).maxSize(100));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals("5.3.4", assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0)).reply().status());
  }

  @Test
  void aSilentServerTimesOutAndDefers() throws Exception {
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).silent());
    long start = System.nanoTime();

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertTrue(result.outcomes().get(0).reply().text().contains("timeout"), result.toString());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "the greeting timeout did not apply");
  }

  @Test
  void noReplyAfterTheDataDefersWithoutTryingTheNextMx() throws Exception {
    fixture.mx("dest.test", 20, "backup.dest.test", "127.0.0.3");
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port)).delay(".", Duration.ofSeconds(3));
    ScriptedMx backup = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port));

    DeliveryResult result = fixture.sender().deliver(request("plain.eml", "rcpt@dest.test"));

    // The first host may have taken the message (RFC 5321 §6.1): retry later, do not duplicate now.
    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0));
    assertTrue(deferred.reply().text().contains("after the data"), deferred.reply().text());
    assertEquals(0, backup.received().size());
    assertEquals(0, backup.sessions());
  }

  @Test
  void theFinalReplyGetsItsOwnLongerTimeout() throws Exception {
    ScriptedMx slow = mx().delay(".", Duration.ofSeconds(2));
    Duration s = Duration.ofSeconds(1);
    // RFC 5321 §4.5.3.2.6: the reply to "." gets longer (10 min) than a command reply (5 min).
    SenderSettings settings = new SenderSettings(s, s, s, s, Duration.ofSeconds(6), s, 100,
        DeliveryFixture.fast(null).smarthostTls());
    SmtpSender sender = fixture.sender(fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), settings);

    DeliveryResult result = sender.deliver(request("plain.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, slow.received().size());
  }

  @Test
  void aSecondMessageToTheSameHostReusesTheConnection() throws Exception {
    ScriptedMx mx = mx();
    SmtpSender sender = fixture.sender();

    sender.deliver(request("plain.eml", "one@dest.test"));
    sender.deliver(request("dots-and-8bit.eml", "two@dest.test"));

    assertEquals(2, mx.received().size());
    assertEquals(1, mx.sessions());
  }

  @Test
  void concurrentDeliveriesShareTheSenderSafely() throws Exception {
    ScriptedMx mx = mx();
    SmtpSender sender = fixture.sender();
    List<java.util.concurrent.Future<DeliveryResult>> results = new java.util.ArrayList<>();

    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 8; i++) {
          String rcpt = "r" + round + "-" + i + "@dest.test";
          results.add(threads.submit(() -> sender.deliver(request("plain.eml", rcpt))));
        }
        for (var r : results) {
          r.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
      }
    }

    for (var r : results) {
      assertEquals(1, r.get().delivered().size(), r.get().toString());
    }
    assertEquals(16, mx.received().size());
    assertTrue(mx.sessions() <= 8, "the second round opened new sessions instead of reusing: " + mx.sessions());
  }

  @Test
  void aKeptConnectionTheServerClosedIsReplacedByANewOne() throws Exception {
    ScriptedMx mx = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).idleTimeout(Duration.ofSeconds(2)));
    Duration s = Duration.ofSeconds(3);
    SenderSettings keepLong = new SenderSettings(s, s, s, s, s, Duration.ofSeconds(30), 100,
        DeliveryFixture.fast(null).smarthostTls());
    SmtpSender sender = fixture.sender(fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), keepLong);

    assertEquals(1, sender.deliver(request("plain.eml", "one@dest.test")).delivered().size());
    Thread.sleep(3000); // the server drops the idle session; the sender still keeps it
    DeliveryResult second = sender.deliver(request("plain.eml", "two@dest.test"));

    assertEquals(1, second.delivered().size(), second.toString());
    assertEquals(2, mx.received().size());
    assertEquals(2, mx.sessions());
  }
}
