package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Envelope;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code signet drain}: empties a spool without accepting anything. No listener (neither SMTP, admin
 * nor metrics); the spool's messages are delivered by the relay's own delivery side ({@link Outbound}:
 * MX, TLS, shaping, 7-bit conversion, retry schedule, max-age, signed bounces, which are delivered
 * too, and every outcome recorded as an event for the webhooks), and the command exits 0 once the
 * spool is empty. For scaling a fleet down: run it as a Job on the volume of the removed instance.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = {"Deliver everything in the spool, accept nothing, and exit when it is empty.",
        "Exit 0: the spool is empty. Exit 3: --max-time passed first; what is left is listed on stderr."})
final class DrainCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(DrainCommand.class);
  static final int LEFT_OVER = 3;
  private static final Duration POLL = Duration.ofMillis(200);

  @Mixin ConfigOption config;

  @Option(names = "--max-time", paramLabel = "DURATION",
      description = "Give up after this long (30s, 45m, 2h, 1d): stop cleanly, list what is left, exit 3. Default: no limit.")
  String maxTime;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    SignetConfig c = config.load();
    Optional<Duration> limit = maxTime == null ? Optional.empty() : Optional.of(duration(maxTime));
    KeyRing keys = ServeCommand.keys(c);
    Outbound outbound;
    try {
      outbound = Outbound.open(c, keys, new Metrics(), java.time.Clock.systemUTC());
    } catch (IOException e) {
      throw new CommandFailure(e.getMessage());
    }
    Spool spool = outbound.spool;
    Thread hook = new Thread(() -> stop(outbound), "signet-drain-stop");
    Runtime.getRuntime().addShutdownHook(hook); // SIGTERM (the Job deleted): stop as a relay does
    try {
      outbound.start();
      int start = spool.list().size();
      log.info("drain: {} message(s) in {}; delivering, accepting nothing", start, c.spool().dir());
      long deadline = limit.map(d -> System.nanoTime() + d.toNanos()).orElse(Long.MAX_VALUE);
      List<Envelope> left;
      while (!(left = spool.list()).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(POLL);
      }
      left = spool.list();
      stop(outbound);
      PrintWriter out = spec.commandLine().getOut();
      if (left.isEmpty()) {
        out.println("drained: " + start + " message" + (start == 1 ? "" : "s") + " delivered or bounced; the spool is empty");
        out.flush();
        return 0;
      }
      PrintWriter err = spec.commandLine().getErr();
      err.println("signet drain: " + left.size() + " message" + (left.size() == 1 ? "" : "s") + " still queued after "
          + maxTime + ":");
      Instant now = Instant.now();
      for (Envelope e : left) {
        String reply = e.recipients().stream().filter(r -> r.state() == Envelope.State.PENDING)
            .map(Envelope.Recipient::lastReply).filter(r -> !r.isEmpty()).findFirst().orElse("no attempt yet");
        err.printf("%s  <%s>  pending=%d  next=%s  last=\"%s\"%s%n", e.id(), e.sender(),
            e.recipients().stream().filter(r -> r.state() == Envelope.State.PENDING).count(),
            e.recipients().stream().filter(r -> r.state() == Envelope.State.PENDING)
                .map(r -> r.nextAttempt().orElse(now)).min(Instant::compareTo).map(Instant::toString).orElse("-"),
            reply, QueueCommand.held(e, now));
      }
      err.flush();
      return LEFT_OVER;
    } catch (IOException e) {
      stop(outbound);
      throw new CommandFailure("spool.dir " + c.spool().dir() + ": " + e.getMessage());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs the stop
      }
    }
  }

  private final Object stopLock = new Object();
  private boolean stopped;

  private void stop(Outbound outbound) {
    synchronized (stopLock) {
      if (stopped) {
        return;
      }
      stopped = true;
      try {
        outbound.stopDeliveries(Relay.DELIVERY_GRACE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      outbound.close();
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(s|m|h|d)");

  private static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new CommandFailure("--max-time: expected a duration like 30s, 45m, 2h or 1d, got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
