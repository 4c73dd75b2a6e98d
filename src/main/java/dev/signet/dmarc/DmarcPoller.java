package dev.signet.dmarc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's side of DMARC reports ({@code dmarc.imap}): reads the mailbox at start and every
 * {@code dmarc.poll}, stores new reports and counts their messages in
 * {@code signet_dmarc_messages_total{reporter,dkim,spf,disposition}} (labels from closed sets).
 * A failed poll is logged and tried again at the next one.
 */
public final class DmarcPoller implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DmarcPoller.class);

  private final String url;
  private final DmarcReports reports;
  private final ScheduledExecutorService timer;

  private DmarcPoller(String url, Path spoolDir, MeterRegistry registry) throws IOException {
    this.url = url;
    this.reports = new DmarcReports(spoolDir, summary -> count(registry, summary));
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("signet-dmarc-poll").daemon().unstarted(r));
  }

  public static DmarcPoller start(String url, Duration every, Path spoolDir, MeterRegistry registry)
      throws IOException {
    DmarcPoller poller = new DmarcPoller(url, spoolDir, registry);
    poller.timer.scheduleWithFixedDelay(poller::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return poller;
  }

  /** Counts every message of a newly stored report. */
  static void count(MeterRegistry registry, ReportSummary summary) {
    for (ReportSummary.Tally t : summary.tallies()) {
      Counter.builder("signet.dmarc.messages")
          .description("Messages in DMARC aggregate reports, by reporter and the receiver's DMARC evaluation")
          .tag("reporter", summary.reporter().label())
          .tag("dkim", t.dkim()).tag("spf", t.spf()).tag("disposition", t.disposition())
          .register(registry).increment(t.count());
    }
  }

  private void poll() {
    try {
      List<DmarcReports.Outcome> outcomes = reports.mailbox(url);
      for (DmarcReports.Outcome o : outcomes) {
        switch (o) {
          case DmarcReports.Outcome.Stored s -> log.info("dmarc report stored: reporter={} id={} messages={} source={}",
              s.report().org(), s.report().reportId(), s.report().messages(), s.source());
          case DmarcReports.Outcome.Duplicate d -> log.info("dmarc report already stored: reporter={} id={}",
              d.report().org(), d.report().reportId());
          case DmarcReports.Outcome.Malformed m -> log.warn("dmarc report skipped: source={} reason={}",
              m.source(), m.reason());
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("dmarc poll of {} failed, next try in one interval: {}", DmarcReports.redact(url), e.getMessage());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
