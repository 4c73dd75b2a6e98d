package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.SmtpSender;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.message.Submission;
import dev.signet.metrics.Metrics;
import dev.signet.metrics.MetricsServer;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import dev.signet.smtp.SubmissionServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code signet serve}: loads the config and keys, recovers the spool, starts the submission
 * listeners, the metrics endpoint and the delivery scheduler, and runs until SIGTERM/SIGINT, when a
 * shutdown hook stops the listeners (sessions closed, their threads awaited), then the scheduler
 * (attempts in flight finish, bounded), before the spool is closed.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the relay.")
final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin ConfigOption config;

  @Override
  public Integer call() throws InterruptedException {
    SignetConfig c = config.load();
    KeyRing keys = keys(c);
    Signer signer = new Signer(c.dkim(), Clock.systemUTC());
    log.info("signing providers: {}", signer.providers());
    Submission submission = new Submission(c, keys, signer);
    Metrics metrics = new Metrics();
    Spool spool;
    try {
      spool = Spool.open(c.spool().dir());
    } catch (IOException e) {
      throw new CommandFailure("spool.dir " + c.spool().dir() + ": " + e.getMessage());
    }
    // Delivery: the scheduler hears of each accepted message through the spool and sends it out.
    SmtpSender sender = new SmtpSender(c);
    Scheduler scheduler = new Scheduler(c, spool, sender::deliver, Clock.systemUTC(), metrics);
    SubmissionServer server = null;
    MetricsServer metricsServer = null;
    try {
      server = new SubmissionServer(c, submission, spool, metrics);
      server.start();
      metricsServer = MetricsServer.start(c.metrics().listen(), metrics);
      log.info("metrics: http://{}:{}/metrics", c.metrics().listen().host(), metricsServer.port());
      scheduler.start();
    } catch (IOException e) {
      close(server, metricsServer, scheduler, sender, spool);
      throw new CommandFailure(e.getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    SubmissionServer running = server;
    MetricsServer runningMetrics = metricsServer;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping: closing listeners and sessions, then deliveries in flight");
      close(running, runningMetrics, scheduler, sender, spool);
      log.info("stopped");
      stopped.countDown();
    }, "signet-shutdown"));
    stopped.await();
    return 0;
  }

  /** The key ring; a missing keys directory is created empty so a fresh install starts. */
  private static KeyRing keys(SignetConfig c) {
    Path dir = c.dkim().keys();
    try {
      if (!Files.exists(dir)) {
        Files.createDirectories(dir);
        log.warn("dkim.keys {} did not exist; created it empty", dir.toAbsolutePath());
      }
      KeyRing keys = KeyRing.load(dir);
      if (keys.all().isEmpty()) {
        log.warn("no DKIM keys in {}: every message will be {} until you create one, e.g. "
            + "signet keygen --domain example.com --selector s2026 --keys {}",
            dir.toAbsolutePath(),
            c.dkim().unsigned() == SignetConfig.UnsignedPolicy.REJECT
                ? "refused with 451 4.3.5 (dkim.unsigned: reject)" : "relayed unsigned (dkim.unsigned: relay)",
            dir);
      } else {
        log.info("DKIM keys: {}", keys.all().stream().map(SigningKey::describe).collect(Collectors.joining(", ")));
      }
      return keys;
    } catch (IOException | DkimException e) {
      throw new CommandFailure("dkim.keys " + dir + ": " + e.getMessage());
    }
  }

  private static void close(SubmissionServer server, MetricsServer metricsServer, Scheduler scheduler,
      SmtpSender sender, Spool spool) {
    if (server != null) {
      server.close();
    }
    try {
      scheduler.stop(); // bounded: attempts in flight get their outcomes written
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.close();
    if (metricsServer != null) {
      metricsServer.close();
    }
    try {
      spool.close();
    } catch (IOException e) {
      log.error("closing the spool: {}", e.getMessage());
    }
  }
}
