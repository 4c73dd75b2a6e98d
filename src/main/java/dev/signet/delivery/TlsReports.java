package dev.signet.delivery;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.TlsReportStore.Row;
import java.io.IOException;
import java.net.IDN;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * SMTP TLS reporting (RFC 8460): counts the sessions with each policy domain (a recipient domain with
 * an MTA-STS or DANE policy) that asks for reports in its {@code _smtp._tls} TXT record, per UTC day
 * and result type, in {@link TlsReportStore} under {@code <spool>/tls-reports/}; after each day ends,
 * sends each domain its aggregate report ({@link TlsReport}): POSTed to {@code https:} addresses, and
 * handed to a {@link Mailer} (the relay's queue, signed) for {@code mailto:} addresses.
 */
public final class TlsReports implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TlsReports.class);
  static final String DIR = "tls-reports";
  /** How often the thread looks for ended days to report (the day's end is checked on the clock). */
  static final Duration CHECK = Duration.ofMinutes(10);
  private static final Duration POST_TIMEOUT = Duration.ofSeconds(30);

  /** Queues a report message to one recipient (through the relay's own queue, DKIM-signed). */
  @FunctionalInterface
  public interface Mailer {
    void send(String from, String recipient, byte[] message) throws IOException;
  }

  /** What a session found, for the report: the failure's RFC 8460 §4.3 result type, or none. */
  record Session(String domain, String policyType, List<String> policyStrings, List<String> mxHosts,
      String resultType, String sendingIp, String receivingMx, String receivingIp) {
    static final String STS = "sts";
    static final String TLSA = "tlsa";
    static final String NO_POLICY = "no-policy-found";
  }

  private final SignetConfig.TlsReports settings;
  private final String hostname;
  private final TlsReportStore store;
  private final Resolver resolver;
  private final Cache cache = new Cache(DClass.IN);
  private final HttpClient http;
  private final Clock clock;
  private volatile Mailer mailer;
  private ScheduledExecutorService thread;

  TlsReports(SignetConfig.TlsReports settings, String hostname, TlsReportStore store, Resolver resolver,
      PeerTrust trust, Clock clock) {
    this.settings = settings;
    this.hostname = hostname;
    this.store = store;
    this.resolver = resolver;
    this.clock = clock;
    // RFC 8460 §5.2: the POST goes to a WebPKI-authenticated host (JDK roots plus delivery.ca-file); no redirects.
    this.http = HttpClient.newBuilder().sslContext(trust.context()).connectTimeout(POST_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /**
   * TLS reports for the relay configured by {@code config}; null when delivery.tls-reports.from is unset.
   *
   * @throws IOException if delivery.ca-file or the counts under spool.dir cannot be read
   */
  public static TlsReports forRelay(SignetConfig config, Clock clock) throws IOException {
    if (config.tlsReports().from().isEmpty()) {
      return null;
    }
    Path dir = config.spool().dir().resolve(DIR);
    TlsReportStore store;
    try {
      store = TlsReportStore.open(dir);
    } catch (IOException e) {
      throw new IOException("TLS report counts " + dir + ": " + e.getMessage(), e);
    }
    return new TlsReports(config.tlsReports(), config.hostname(), store,
        MxResolver.resolver(config.delivery().dns(), MxResolver.Settings.DEFAULT),
        PeerTrust.load(config.delivery().caFile()), clock);
  }

  /** Starts the thread that sends the reports of ended days (at once for days ended while stopped). */
  public synchronized void start(Mailer mailer) {
    this.mailer = mailer;
    thread = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("signet-tls-reports")
        .daemon().unstarted(r));
    thread.scheduleWithFixedDelay(this::sendDue, 0, CHECK.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Counts one session, if its domain asks for reports. Never fails a delivery: trouble is logged. */
  void record(Session s) {
    try {
      if (rua(s.domain()).isEmpty()) {
        return;
      }
      store.add(today(), new Row(s.domain(), s.policyType(), s.policyStrings(), s.mxHosts(),
          s.resultType() == null ? Row.SUCCESS : s.resultType(), s.resultType() == null ? "" : s.sendingIp(),
          s.resultType() == null ? "" : s.receivingMx(), s.resultType() == null ? "" : s.receivingIp()));
    } catch (IOException | RuntimeException e) {
      log.error("tls-report domain={} session not counted: {}", s.domain(), e.toString());
    }
  }

  /** Sends the report of every ended day, one per policy domain, then forgets the day's counts. */
  public synchronized void sendDue() {
    for (LocalDate day : store.before(today())) {
      Map<Row, Long> counts = store.counts(day);
      for (String domain : new TreeSet<>(counts.keySet().stream().map(Row::domain).toList())) {
        send(new TlsReport(organization(), settings.from().orElseThrow(), submitter(), domain, day, counts));
      }
      try {
        store.remove(day, counts);
      } catch (IOException e) {
        log.error("tls-report day={} reported but its counts could not be removed: {}", day, e.toString());
      }
    }
  }

  private void send(TlsReport report) {
    List<String> rua;
    byte[] gzipped;
    try {
      rua = rua(report.domain());
      gzipped = report.gzipped();
    } catch (IOException e) {
      log.error("tls-report domain={} day={} not sent: {}", report.domain(), report.day(), e.toString());
      return;
    }
    for (String uri : rua) {
      try {
        if (uri.regionMatches(true, 0, "mailto:", 0, 7)) {
          String to = java.net.URLDecoder.decode(uri.substring(7), java.nio.charset.StandardCharsets.UTF_8);
          String from = settings.from().orElseThrow();
          mailer.send(from, to, report.message(from, to, hostname, clock.instant()));
          log.info("tls-report domain={} day={} id={} queued to {}", report.domain(), report.day(), report.id(), to);
        } else if (uri.regionMatches(true, 0, "https:", 0, 6)) {
          post(URI.create(uri), gzipped);
          log.info("tls-report domain={} day={} id={} posted to {}", report.domain(), report.day(), report.id(), uri);
        } else {
          log.warn("tls-report domain={} rua {} ignored: neither mailto: nor https:", report.domain(), uri);
        }
      } catch (IOException | RuntimeException e) {
        log.warn("tls-report domain={} day={} to {} failed: {}", report.domain(), report.day(), uri, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** RFC 8460 §5.2: POST with Content-Type application/tlsrpt+gzip; any 2xx is success. */
  private void post(URI uri, byte[] gzipped) throws IOException, InterruptedException {
    HttpResponse<Void> response = http.send(HttpRequest.newBuilder(uri).timeout(POST_TIMEOUT)
        .header("Content-Type", "application/tlsrpt+gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(gzipped)).build(), HttpResponse.BodyHandlers.discarding());
    if (response.statusCode() / 100 != 2) {
      throw new IOException("HTTP status " + response.statusCode());
    }
  }

  /**
   * RFC 8460 §3: the {@code rua} URIs of {@code domain}'s {@code _smtp._tls} TXT record ("v=TLSRPTv1;
   * rua=uri,uri"; exactly one such record, else none), through delivery.dns with a TTL cache.
   */
  List<String> rua(String domain) throws IOException {
    Lookup lookup;
    try {
      lookup = new Lookup(Name.fromString("_smtp._tls." + IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED), Name.root),
          Type.TXT, DClass.IN);
    } catch (TextParseException | IllegalArgumentException e) {
      return List.of();
    }
    lookup.setResolver(resolver);
    lookup.setCache(cache);
    lookup.setSearchPath((List<Name>) null);
    lookup.setHostsFileParser(null);
    Record[] answers = lookup.run();
    switch (lookup.getResult()) {
      case Lookup.SUCCESSFUL -> { }
      case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
        return List.of();
      }
      default -> throw new IOException("TXT lookup of _smtp._tls." + domain + " failed: " + lookup.getErrorString());
    }
    List<String> records = TxtValues.of(answers, value -> value.matches("v=TLSRPTv1\\s*;.*")); // §3
    if (records.size() != 1) {
      return List.of();
    }
    List<String> rua = new ArrayList<>();
    for (String field : records.get(0).split(";")) {
      String f = field.strip();
      if (f.startsWith("rua=")) {
        for (String uri : f.substring(4).split(",")) {
          if (!uri.isBlank()) {
            rua.add(uri.strip());
          }
        }
      }
    }
    return rua;
  }

  private LocalDate today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  private String submitter() {
    return settings.fromDomain().orElseThrow().toLowerCase(Locale.ROOT);
  }

  private String organization() {
    return settings.organization().orElse(submitter());
  }

  @Override
  public synchronized void close() {
    if (thread != null) {
      thread.shutdownNow();
    }
  }
}
