package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.OpsRig.Run;
import dev.signet.admin.AdminServer;
import dev.signet.config.HostPort;
import dev.signet.config.SignetConfig;
import dev.signet.delivery.Reply;
import dev.signet.events.Events;
import dev.signet.metrics.Metrics;
import dev.signet.delivery.SmtpSender;
import dev.signet.delivery.TestDnsServer;
import dev.signet.queue.Envelope;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import dev.signet.queue.Incoming;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet queue} against the spool of a stopped relay, and of a running one (lock held, scheduler polling). */
class QueueCommandTest {
  private static final String UNKNOWN = "0000000000000000ZZ";

  @TempDir Path dir;
  private Path spoolDir;
  private Path config;

  @BeforeEach
  void config() throws Exception {
    spoolDir = dir.resolve("spool");
    config = dir.resolve("signet.yaml");
    Files.writeString(config, "spool:\n  dir: " + spoolDir + "\n");
  }

  /** Runs {@code signet queue ARGS --config FILE}, capturing stdout and stderr. */
  private Run queue(String... args) {
    return OpsRig.signet("queue", config, args);
  }

  /** Spools a small message; {@code nextAttempt} set = the recipients were deferred once until then. */
  static Envelope spool(Spool spool, String sender, Optional<Instant> nextAttempt, String... recipients)
      throws Exception {
    try (Incoming in = spool.receive()) {
      try (OutputStream body = in.body()) {
        body.write("Hello\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      in.headers("From: app@example.com\r\nSubject: hello queue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Envelope e = Envelope.received(in.id(), sender, List.of(recipients), "127.0.0.1", Optional.of("client.test"),
          Optional.empty(), Instant.now().minusSeconds(125), in.size(), List.of("d=example.com s=rsa2048 a=rsa-sha256"));
      if (nextAttempt.isPresent()) {
        e = e.withRecipients(e.recipients().stream()
            .map(r -> r.deferred(new Reply(421, "4.4.1", "cannot connect", Optional.empty()), nextAttempt.get())).toList());
      }
      spool.accept(in, e);
      return e;
    }
  }

  private Envelope onDisk(Spool spool, String id) throws Exception {
    return spool.envelope(id);
  }

  @Test
  void aMissingSpoolIsNamedNotCreated() {
    for (String command : List.of("list", "flush")) {
      Run run = queue(command);
      assertEquals(1, run.exit(), command);
      assertTrue(run.err().contains(spoolDir + "/queue: no spool here"), run.err());
      assertFalse(Files.exists(spoolDir), "the command created " + spoolDir);
    }
  }

  @Test
  void listShowsWhichProviderHoldsAMessageBackAndUntilWhen() throws Exception {
    Instant until = Instant.now().plusSeconds(1800).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    dev.signet.shaping.Hold hold = new dev.signet.shaping.Hold("google", until, "suspended (rule google-unsolicited-rate)");
    Envelope held;
    try (Spool spool = Spool.open(spoolDir)) {
      held = spool(spool, "app@example.com", Optional.empty(), "a@gmail.com");
      spool.update(held.withRecipients(held.recipients().stream().map(r -> new Envelope.Recipient(r.address(),
          Envelope.State.PENDING, 0, Optional.of(until),
          Optional.of(new Reply(451, "4.4.5", hold.text(), Optional.empty())), false)).toList()));
    }
    Run run = queue("list");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains(held.id()) && run.out().contains(
        "  held back by shaping: provider google suspended (rule google-unsolicited-rate) until " + hold.until()),
        run.out());
  }

  @Nested
  class StoppedRelay {
    private Envelope first;
    private Envelope second;

    @BeforeEach
    void queued() throws Exception {
      try (Spool spool = Spool.open(spoolDir)) {
        first = spool(spool, "app@example.com", Optional.empty(), "a@dest.test", "b@dest.test");
        second = spool(spool, "", Optional.of(Instant.now().plusSeconds(3600)), "c@other.test");
      }
    }

    @Test
    void listPrintsOneLinePerMessageWithCountsAndNextAttempt() {
      Run run = queue("list");
      assertEquals(0, run.exit(), run.err());
      List<String> lines = run.out().lines().toList();
      assertEquals(3, lines.size(), run.out());
      assertTrue(lines.get(0).matches(first.id() + " +2m0\\ds +\\d+ +<app@example.com> +pending=2 delivered=0 failed=0 +next=now"),
          lines.get(0));
      assertTrue(lines.get(1).matches(second.id() + " .* <> +pending=1 delivered=0 failed=0 +next=in (59m\\d\\ds|1h00m)"),
          lines.get(1));
      assertEquals("2 messages in the queue", lines.get(2));
    }

    @Test
    void showPrintsTheEnvelopeAndTheHeaders() {
      Run run = queue("show", second.id());
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().contains("sender     <>\n"), run.out());
      assertTrue(run.out().contains("recipient  <c@other.test> PENDING attempts=1 next="), run.out());
      assertTrue(run.out().contains("class=connection-failure reply=\"421 4.4.1 cannot connect\""), run.out());
      assertTrue(run.out().contains("Subject: hello queue"), run.out());
      assertFalse(run.out().contains("Hello\r\n"), "the body is not shown");
    }

    @Test
    void anUnknownIdExitsOneNamingIt() {
      for (String command : List.of("show", "retry", "delete")) {
        Run run = queue(command, UNKNOWN);
        assertEquals(1, run.exit(), command);
        assertTrue(run.err().contains("signet " + command + ": no such message in the queue: " + UNKNOWN), run.err());
      }
    }

    @Test
    void retryMakesTheDeferredRecipientsDueNow() throws Exception {
      Run run = queue("retry", second.id());
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().startsWith("retrying " + second.id()), run.out());
      try (Spool spool = Spool.open(spoolDir)) {
        Recipient r = onDisk(spool, second.id()).recipients().get(0);
        assertFalse(r.nextAttempt().orElseThrow().isAfter(Instant.now()), r.toString());
        assertEquals(1, r.attempts(), "the attempt count stays");
      }
    }

    @Test
    void flushMakesEveryPendingRecipientDueNow() throws Exception {
      Run run = queue("flush");
      assertEquals(0, run.exit(), run.err());
      assertEquals("flushed 2 messages\n", run.out());
      try (Spool spool = Spool.open(spoolDir)) {
        for (Envelope e : spool.list()) {
          for (Recipient r : e.recipients()) {
            assertFalse(r.nextAttempt().orElseThrow().isAfter(Instant.now()), r.toString());
          }
        }
      }
    }

    @Test
    void deleteRemovesTheMessageAndSaysWhatWasDeleted() throws Exception {
      Run run = queue("delete", first.id());
      assertEquals(0, run.exit(), run.err());
      assertEquals("deleted " + first.id() + " from <app@example.com> (2 recipients, 2 pending)\n", run.out());
      assertFalse(Files.exists(spoolDir.resolve("queue/" + first.id() + ".msg")));
      assertFalse(Files.exists(spoolDir.resolve("queue/" + first.id() + ".env")));
      assertTrue(Files.exists(spoolDir.resolve("queue/" + second.id() + ".msg")));
    }
  }

  /**
   * A relay with its spool open (lock held), a scheduler delivering to an MX that is down, and its
   * admin API, through which the commands act.
   */
  @Nested
  class RunningRelay {
    @Test
    void theRelayCarriesOutRetryFlushAndDeleteAndAnswers() throws Exception {
      try (TestDnsServer dns = TestDnsServer.start()) {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
          port = s.getLocalPort();
        }
        dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.5"); // nothing listens
        SignetConfig d = SignetConfig.defaults();
        SignetConfig cfg = d.toBuilder().hostname("relay.signet.test").spool(new SignetConfig.Spool(spoolDir))
            .delivery(d.delivery().toBuilder().dns(List.of(dns.address())).port(port)
                .retry(List.of(Duration.ofHours(1))).concurrency(10).perDomain(10).build())
            .admin(new SignetConfig.Admin(HostPort.parse("127.0.0.1:0"), Optional.empty())).build();
        try (Spool spool = Spool.open(spoolDir); SmtpSender sender = new SmtpSender(cfg);
            Events events = Events.start(cfg, spoolDir, new Metrics().registry(), Clock.systemUTC())) {
          Scheduler scheduler = new Scheduler(cfg, spool, sender::deliver, (m, f, p) -> {
            throw new java.io.IOException("no bounce expected");
          }, Clock.systemUTC(), dev.signet.queue.QueueListener.NONE);
          AdminServer admin = AdminServer.start(cfg, spool, scheduler, events);
          try {
            Envelope kept = spool(spool, "app@example.com", Optional.empty(), "a@dest.test");
            Envelope doomed = spool(spool, "app@example.com", Optional.empty(), "b@dest.test");
            scheduler.start();
            awaitAttempts(spool, kept.id(), 1);

            Run list = queue("list");
            assertEquals(0, list.exit(), list.err());
            // the 1h retry with its ±20% jitter
            assertTrue(list.out().contains(kept.id())
                && java.util.regex.Pattern.compile("next=in (4[89]m\\d\\ds|5\\dm\\d\\ds|1h[01]\\dm)").matcher(list.out()).find(),
                list.out());

            Run retry = queue("retry", kept.id());
            assertEquals(0, retry.exit(), retry.err());
            assertEquals("retrying " + kept.id() + " (by the running relay)\n", retry.out());
            awaitAttempts(spool, kept.id(), 2);

            Run flush = queue("flush");
            assertEquals(0, flush.exit(), flush.err());
            assertEquals("flushed 2 messages (by the running relay)\n", flush.out());
            awaitAttempts(spool, kept.id(), 3);

            Run delete = queue("delete", doomed.id());
            assertEquals(0, delete.exit(), delete.err());
            assertEquals("deleted " + doomed.id() + " from <app@example.com> (1 recipient, 1 pending) (by the running relay)\n",
                delete.out());
            assertFalse(Files.exists(spoolDir.resolve("queue/" + doomed.id() + ".msg")));

            Run unknown = queue("retry", UNKNOWN);
            assertEquals(1, unknown.exit());
            assertTrue(unknown.err().contains("signet retry: no such message in the queue: " + UNKNOWN), unknown.err());
            assertTrue(Files.exists(spoolDir.resolve("admin")), "the API's address is published in the spool");
          } finally {
            admin.close();
            scheduler.stop(Duration.ofSeconds(10));
          }
          assertFalse(Files.exists(spoolDir.resolve("admin")), "and withdrawn when it stops");
        }
      }
    }

    private void awaitAttempts(Spool spool, String id, int attempts) throws Exception {
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (onDisk(spool, id).recipients().get(0).attempts() < attempts) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no attempt " + attempts + " for " + id + ": " + onDisk(spool, id));
        }
        Thread.sleep(20);
      }
      assertEquals(State.PENDING, onDisk(spool, id).recipients().get(0).state());
    }
  }
}
