package dev.signet.queue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.SmtpSender;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.BodyHash;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.HeaderField;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestKeys;
import dev.signet.testkit.TestClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;
import org.apache.james.jdkim.api.SignatureRecord;
import org.apache.james.jdkim.exceptions.FailException;
import org.apache.james.jdkim.exceptions.PermFailException;

/**
 * A relay's delivery side for end-to-end tests: a TestDnsServer, a spool in a temporary directory,
 * the real SmtpSender and a Scheduler, with receiving MTAs ({@link ScriptedMx}) on 127.0.0.x,
 * all on one port that {@code delivery.port} names. Test messages are signed with the real Signer
 * and the example.com RSA test key, so what reaches an MX can be checked with jDKIM.
 */
final class QueueRig implements AutoCloseable {
  final TestDnsServer dns;
  final int port;
  final Path spoolDir;
  final SigningKey rsa;
  private final Signer signer;
  private final List<AutoCloseable> mtas = new ArrayList<>();
  Duration maxAge = Duration.ofDays(5);
  List<Duration> retry = List.of(Duration.ofMillis(200), Duration.ofMillis(500));
  int perDomain = 2;
  int concurrency = 10;
  Optional<Duration> delayWarning = Optional.empty();
  java.util.Map<String, SignetConfig.TlsLevel> tlsPolicy = java.util.Map.of();
  dev.signet.metrics.Metrics metrics;
  Spool spool;
  SmtpSender sender;
  Scheduler scheduler;
  /**
   * Virtual time for the next {@link #startRelay}: the scheduler reads this clock and is started
   * stepped, so due jobs run only in {@link #runDue}. Null = real time, with the dispatcher thread.
   */
  TestClock clock;
  /** Traffic shaping for the next {@link #startRelay}; null = the built-in rules. */
  dev.signet.shaping.Shaping shaping;

  QueueRig(Path root) throws Exception {
    dns = TestDnsServer.start();
    port = ScriptedMx.freePort();
    spoolDir = root.resolve("spool");
    Path keys = root.resolve("keys");
    TestKeys.installKey(keys, "rsa2048.pem", "example.com", "rsa2048");
    rsa = KeyRing.load(keys).keysFor("example.com", false).get(0);
    signer = new Signer(SignetConfig.defaults().dkim().signer(), Clock.systemUTC());
  }

  SignetConfig config() {
    SignetConfig d = SignetConfig.defaults();
    SignetConfig.Delivery delivery = d.delivery().toBuilder().dns(List.of(dns.address())).port(port).retry(retry)
        .maxAge(maxAge).delayWarning(delayWarning).concurrency(concurrency).perDomain(perDomain)
        .tlsPolicy(tlsPolicy).build();
    return d.toBuilder().hostname("relay.signet.test").spool(new SignetConfig.Spool(spoolDir)).delivery(delivery)
        .build();
  }

  /** Opens the spool and starts a scheduler on it (again after {@link #stopRelay}). */
  QueueRig startRelay(Scheduler.Reports reports) throws IOException {
    spool = Spool.open(spoolDir);
    sender = shaping == null ? new SmtpSender(config()) : new SmtpSender(config(), shaping);
    scheduler = new Scheduler(config(), spool, sender::deliver, reports, clock == null ? Clock.systemUTC() : clock,
        metrics == null ? QueueListener.NONE : metrics.queue());
    if (clock == null) {
      scheduler.start();
    } else {
      scheduler.startStepped();
    }
    return this;
  }

  /** On virtual time: runs the jobs due at the clock's time now and returns when they have ended. */
  List<Scheduler.Decision> runDue() throws InterruptedException {
    return scheduler.runDue();
  }

  /**
   * On virtual time: runs the jobs due now; if none is, moves the clock on to the earliest job and
   * runs what is due then. Returns the decisions of the jobs run.
   */
  List<Scheduler.Decision> step() throws InterruptedException {
    List<Scheduler.Decision> ran = runDue();
    if (ran.isEmpty()) {
      clock.advanceTo(scheduler.nextJob().orElseThrow(() -> new AssertionError("no job left to run")));
      ran = runDue();
    }
    return ran;
  }

  /** On virtual time: {@link #step}s until {@code condition} holds (at most 50 steps); fails naming {@code what}. */
  void stepUntil(String what, BooleanSupplier condition) throws InterruptedException {
    for (int steps = 0; !condition.getAsBoolean(); steps++) {
      if (steps == 50) {
        throw new AssertionError("50 steps of virtual time and still not: " + what);
      }
      step();
    }
  }

  /** On virtual time: nothing is left to happen: no job held, and none due even a day later. */
  void assertIdle() throws InterruptedException {
    clock.advance(Duration.ofDays(1));
    List<Scheduler.Decision> ran = runDue();
    if (!ran.isEmpty() || scheduler.jobs() != 0) {
      throw new AssertionError("not idle: ran " + ran + ", " + scheduler.jobs() + " job(s) left");
    }
  }

  /** Stops the scheduler, the sender and closes the spool, as a relay shutting down does. */
  void stopRelay() throws IOException, InterruptedException {
    if (scheduler != null) {
      scheduler.stop(Duration.ofSeconds(10));
      scheduler = null;
    }
    if (sender != null) {
      sender.close();
      sender = null;
    }
    if (spool != null) {
      spool.close();
      spool = null;
    }
  }

  /** An MX record for {@code domain} pointing at a host with {@code address}. */
  void mx(String domain, int preference, String address) {
    String host = "mx" + preference + "." + domain;
    dns.add(domain + ". 300 IN MX " + preference + " " + host + ".", host + ". 300 IN A " + address);
  }

  ScriptedMx scripted(String address) throws IOException {
    ScriptedMx mx = ScriptedMx.start(address, port);
    mtas.add(mx);
    return mx;
  }

  /** A message from example.com, signed, as the submission stage would have spooled it. */
  byte[] signedMessage(String subject) throws Exception {
    String head = "From: App <app@example.com>\r\nTo: someone@dest.test\r\nSubject: " + subject + "\r\n"
        + "Date: Wed, 25 Nov 2026 18:00:00 +0000\r\nMessage-ID: <" + UUID.randomUUID() + "@example.com>\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n";
    byte[] body = ("Hello,\r\n.a line that starts with a dot (dot-stuffing on the wire)\r\n\r\nbye\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    List<HeaderField> fields = new ArrayList<>();
    for (String line : head.split("(?<=\r\n)")) {
      fields.add(new HeaderField(line.substring(0, line.indexOf(':')), line.getBytes(StandardCharsets.US_ASCII)));
    }
    BodyHash hash = signer.bodyHash();
    hash.write(body);
    hash.close();
    StringBuilder out = new StringBuilder();
    signer.sign(fields, hash, List.of(rsa)).forEach(out::append);
    out.append(head).append("\r\n").append(new String(body, StandardCharsets.US_ASCII));
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** Spools a signed message from {@code sender} (empty = null sender), as the submission server does. */
  Envelope send(String sender, String... recipients) throws Exception {
    return send(spool, sender, recipients);
  }

  /** Spools a signed message into {@code spool} (another relay's, say). */
  Envelope send(Spool spool, String sender, String... recipients) throws Exception {
    byte[] message = signedMessage("test for " + String.join(",", recipients));
    int split = new String(message, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
    try (Incoming in = spool.receive()) {
      try (OutputStream body = in.body()) {
        body.write(message, split, message.length - split);
      }
      in.headers(java.util.Arrays.copyOf(message, split));
      Envelope envelope = Envelope.received(in.id(), sender, List.of(recipients), "127.0.0.1",
          Optional.of("client.test"), Optional.empty(), (clock == null ? Clock.systemUTC() : clock).instant(), in.size(),
          List.of("d=example.com s=rsa2048 a=rsa-sha256"));
      spool.accept(in, envelope); // a running scheduler learns of it through Spool.onAccept
      return envelope;
    }
  }

  /** True if jDKIM finds a valid signature by the test key on {@code message}. */
  boolean verifies(byte[] message) throws Exception {
    PublicKeyRecordRetriever keys = (method, selector, domain) -> {
      if (selector.toString().equals(rsa.selector()) && domain.toString().equals(rsa.domain())) {
        return List.of(DnsRecord.of(rsa).value());
      }
      throw new PermFailException("no key for " + selector + "._domainkey." + domain);
    };
    DKIMVerifier verifier = new DKIMVerifier(keys);
    try {
      List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(message));
      return valid != null && !valid.isEmpty();
    } catch (FailException e) {
      return false;
    }
  }

  /** The envelope of {@code id} as on disk, or null once the message is gone. */
  Envelope onDisk(String id) {
    try {
      return SpoolView.of(spoolDir).envelope(id);
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Messages in the spool's queue/ now. */
  int queued() {
    try (var files = Files.list(spoolDir.resolve("queue"))) {
      return (int) files.filter(f -> f.toString().endsWith(".msg")).count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      stopRelay();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      for (int i = mtas.size() - 1; i >= 0; i--) {
        try {
          mtas.get(i).close();
        } catch (Exception e) {
          throw new IOException(e);
        }
      }
      dns.close();
    }
  }

  /** Reports for tests that expect no bounce: one built anyway is counted and fails its attempt. */
  static final class NoBounces implements Scheduler.Reports {
    private final java.util.concurrent.atomic.AtomicInteger built = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public byte[] failureReport(Envelope message, List<Envelope.Recipient> failed,
        dev.signet.delivery.MessageSource original) throws IOException {
      built.incrementAndGet();
      throw new IOException("unexpected bounce for " + failed);
    }

    /** Bounces built so far. */
    int built() {
      return built.get();
    }
  }
}
