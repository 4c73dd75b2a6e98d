package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.testkit.ScriptedMx;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SmtpSender#abort}, for a stopping relay whose grace ran out: an attempt waiting for the
 * reply to the final "." ends at once, deferred (nothing was confirmed), and no attempt after it
 * opens a session.
 */
class SenderAbortTest {
  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  @BeforeEach
  void start() {
    fixture.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
  }

  @Test
  void abortCutsTheSessionWaitingForTheReplyToTheDataAndOpensNoOther() throws Exception {
    ScriptedMx mx = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port)).delay(".", Duration.ofSeconds(4));
    Duration s = Duration.ofSeconds(1);
    SenderSettings patient = new SenderSettings(s, s, s, s, Duration.ofSeconds(30), Duration.ofSeconds(5), 100,
        (javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault());
    SmtpSender sender = fixture.sender(fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), patient);

    CompletableFuture<DeliveryResult> attempt = CompletableFuture.supplyAsync(
        () -> sender.deliver(DeliveryFixture.request("plain.eml", "rcpt@dest.test")),
        r -> Thread.ofVirtual().start(r));
    Thread.sleep(1_000); // the data is sent within this; the MX sits on it for 4 s
    long t0 = System.nanoTime();
    sender.abort();
    DeliveryResult cut = attempt.get(2, TimeUnit.SECONDS);
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 1_000, "the abort did not end the attempt");
    RecipientOutcome.Deferred deferred = assertInstanceOf(RecipientOutcome.Deferred.class, cut.outcomes().get(0));
    assertTrue(deferred.reply().text().contains("after the data"), deferred.reply().text());

    int sessions = mx.sessions();
    DeliveryResult after = sender.deliver(DeliveryFixture.request("plain.eml", "rcpt@dest.test"));
    RecipientOutcome.Deferred refused = assertInstanceOf(RecipientOutcome.Deferred.class, after.outcomes().get(0));
    assertEquals("4.3.2", refused.reply().status());
    assertEquals(sessions, mx.sessions(), "a session was opened after the abort");
  }
}
