package dev.signet.queue;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.SmtpSender;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.smtp.SubmissionServer;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestClock;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault suite, end to end in one JVM as {@code serve} wires it: a client submits over SMTP
 * (SubmissionServer, 250 only once spooled), the Scheduler delivers through the real SmtpSender and
 * real DNS (TestDnsServer). A DNS or MX fault defers the message (on disk, 4xx last reply), nothing
 * is lost, and once the fault clears it is delivered exactly once, still verifying.
 */
class FaultRecoveryTest {
  @TempDir Path root;
  private QueueRig rig;
  private SubmissionServer server;
  private Scheduler scheduler;
  private SmtpSender sender;
  /** The scheduler's virtual time: it runs due jobs only in {@link Scheduler#runDue}. */
  private final TestClock clock = new TestClock(Instant.now());

  @BeforeEach
  void start() throws Exception {
    rig = new QueueRig(root);
    rig.retry = List.of(Duration.ofMillis(300));
    rig.mx("dest.test", 10, "127.0.0.2");
  }

  private void startRelay() throws Exception {
    SignetConfig d = rig.config();
    SignetConfig.Dkim dkim = d.dkim().toBuilder().keys(root.resolve("keys")).subdomains(false).build();
    SignetConfig config = d.toBuilder()
        .listen(new SignetConfig.Listen(HostPort.parse("127.0.0.1:0"), Optional.empty())).dkim(dkim).build();
    rig.spool = Spool.open(config.spool().dir());
    Metrics metrics = new Metrics();
    sender = new SmtpSender(config);
    scheduler = new Scheduler(config, rig.spool, sender::deliver, clock, metrics.queue());
    server = new SubmissionServer(config, new Submission(config, KeyRing.load(dkim.keys()),
        new Signer(dkim.signer(), Clock.systemUTC())), rig.spool, metrics);
    server.start();
    scheduler.startStepped();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (scheduler != null) {
      scheduler.stop(Duration.ofSeconds(10));
    }
    if (sender != null) {
      sender.close();
    }
    rig.close();
  }

  /** Submits one message over SMTP; returns its queue id from the 250 reply. */
  private String submit(String subject) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(server.addresses().get(0), 5000);
      s.setSoTimeout(20_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      String reply = null;
      for (String command : new String[] {null, "EHLO client.test", "MAIL FROM:<app@example.com>",
          "RCPT TO:<rcpt@dest.test>", "DATA",
          "From: app@example.com\r\nTo: rcpt@dest.test\r\nSubject: " + subject + "\r\n\r\nbody\r\n.", "QUIT"}) {
        if (command != null) {
          out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
        String line;
        do {
          line = in.readLine();
        } while (line != null && line.length() > 3 && line.charAt(3) == '-');
        if (command != null && command.startsWith("From:")) {
          reply = line;
        }
      }
      assertTrue(reply != null && reply.startsWith("250 2.0.0 Ok: queued as "), "submission: " + reply);
      return reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
    }
  }

  private void assertDeferredThenDeliveredOnce(String id, Runnable clearFault) throws Exception {
    // the first attempt (a DNS timeout takes dnsjava's retries, several seconds); runDue returns once it ended
    List<Scheduler.Decision> first = scheduler.runDue();
    assertEquals(1, first.size(), "jobs run: " + first);
    Envelope deferred = rig.onDisk(id);
    assertEquals(Envelope.State.PENDING, deferred.recipients().get(0).state());
    assertEquals(1, deferred.recipients().get(0).attempts());
    assertEquals(first.get(0).next(), deferred.recipients().get(0).nextAttempt(), "scheduled for the time on disk");
    String last = deferred.recipients().get(0).lastReply();
    assertTrue(last.matches("(.* said: )?4\\d\\d .*"), last);
    clearFault.run();
    ScriptedMx mx = rig.scripted("127.0.0.2");
    clock.advanceTo(first.get(0).next().orElseThrow());
    List<Scheduler.Decision> second = scheduler.runDue();
    assertEquals(1, second.size(), "jobs run: " + second);
    assertEquals(Optional.empty(), second.get(0).next(), "nothing left to try");
    assertEquals(null, rig.onDisk(id), "delivered after the fault cleared");
    // No job is left that could send it again, not even a day later.
    clock.advance(Duration.ofDays(1));
    assertEquals(List.of(), scheduler.runDue());
    assertEquals(0, scheduler.jobs());
    assertEquals(1, mx.copies().size(), "delivered exactly once");
    assertTrue(rig.verifies(mx.copies().get(0).data()), "still verifies after the detour");
    assertEquals(0, rig.queued());
  }

  @Test
  void dnsServfailDefersThenDeliversOnceItClears() throws Exception {
    rig.dns.servfail("dest.test");
    startRelay();
    String id = submit("servfail");
    assertDeferredThenDeliveredOnce(id, () -> rig.dns.heal("dest.test"));
  }

  @Test
  void dnsTimeoutsDeferThenDeliverOnceTheServerAnswers() throws Exception {
    rig.dns.drop("dest.test");
    startRelay();
    String id = submit("dns timeout");
    assertDeferredThenDeliveredOnce(id, () -> rig.dns.heal("dest.test"));
  }

  @Test
  void anMxGreetingWith421DefersThenDeliversOnceItAccepts() throws Exception {
    ScriptedMx busy = ScriptedMx.start("127.0.0.2", rig.port).reply("GREETING", "421 4.3.2 mx.dest.test busy, try later");
    startRelay();
    String id = submit("421");
    assertDeferredThenDeliveredOnce(id, () -> {
      try {
        busy.close();
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
    });
    assertTrue(busy.sessions() >= 1, "greeted " + busy.sessions());
  }

  @Test
  void anMxRefusingConnectionsDefersThenDeliversOnceItListens() throws Exception {
    startRelay(); // nothing listens on 127.0.0.2 yet
    String id = submit("refused");
    assertDeferredThenDeliveredOnce(id, () -> { });
  }
}
