package dev.signet.config;

import dev.signet.dkim.Canonicalization;
import dev.signet.dkim.SignerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole configuration of one relay: conf/signet.yaml (or embedded defaults) plus SIGNET_*
 * environment overrides, read once at start and passed down as immutable records.
 * Keys and value formats are a contract with operators (docs/ARCHITECTURE.md, "Contracts with
 * operators").
 */
public record SignetConfig(
    String hostname,
    Listen listen,
    Tls tls,
    Clients clients,
    Limits limits,
    MessagePolicy message,
    Dkim dkim,
    Spool spool,
    Delivery delivery,
    Metrics metrics,
    Dmarc dmarc,
    Bounce bounce,
    Feedback feedback,
    Admin admin,
    TlsReports tlsReports) {

  /** The embedded defaults, read once, for the constructors that leave parts out. */
  private static final class Embedded {
    static final SignetConfig DEFAULTS = defaults();
  }

  /** The rest at the embedded defaults: no DMARC report polling, default bounces, events, suppression and admin API. */
  public SignetConfig(String hostname, Listen listen, Tls tls, Clients clients, Limits limits, MessagePolicy message,
      Dkim dkim, Spool spool, Delivery delivery, Metrics metrics) {
    this(hostname, listen, tls, clients, limits, message, dkim, spool, delivery, metrics,
        Embedded.DEFAULTS.feedback(), Embedded.DEFAULTS.admin());
  }

  /** No DMARC report polling, default bounces. */
  public SignetConfig(String hostname, Listen listen, Tls tls, Clients clients, Limits limits, MessagePolicy message,
      Dkim dkim, Spool spool, Delivery delivery, Metrics metrics, Feedback feedback, Admin admin) {
    this(hostname, listen, tls, clients, limits, message, dkim, spool, delivery, metrics,
        new Dmarc(Optional.empty(), Duration.ofMinutes(15)), new Bounce(Optional.empty()), feedback, admin);
  }

  /** Without TLS reports ({@code delivery.tls-reports.from} unset). */
  public SignetConfig(String hostname, Listen listen, Tls tls, Clients clients, Limits limits, MessagePolicy message,
      Dkim dkim, Spool spool, Delivery delivery, Metrics metrics, Dmarc dmarc, Bounce bounce, Feedback feedback,
      Admin admin) {
    this(hostname, listen, tls, clients, limits, message, dkim, spool, delivery, metrics, dmarc, bounce, feedback,
        admin, new TlsReports(Optional.empty(), Optional.empty()));
  }

  /**
   * {@code delivery.tls-reports}: TLS-RPT aggregate reports (RFC 8460), off while {@code from} is unset.
   *
   * @param from the reporting address (From of the mailed reports; its domain signs them)
   * @param organization the report's organization-name; default the domain of {@code from}
   */
  public record TlsReports(Optional<String> from, Optional<String> organization) {
    public Optional<String> fromDomain() {
      return from.map(f -> f.substring(f.lastIndexOf('@') + 1));
    }
  }

  /**
   * Where DMARC aggregate reports arrive ({@code imap://user:password@host:port/folder} or
   * {@code imaps://...}) and how often the relay reads them; no mailbox = no polling.
   */
  public record Dmarc(Optional<String> imap, Duration poll) {
    @Override
    public String toString() {
      return "Dmarc[imap=" + imap.map(u -> u.replaceFirst("(//[^:/@]*:)[^@/]*@", "$1***@")) + ", poll=" + poll + "]";
    }
  }

  /**
   * Delivery status notifications the relay sends (RFC 3464).
   *
   * @param from the domain of their From address, {@code MAILER-DAEMON@<from>}; empty = the hostname.
   *     They are DKIM-signed with that domain's keys (or a parent domain's) when there are any.
   */
  public record Bounce(Optional<String> from) {}

  /** This config with other DKIM settings (the same relay signing its own mail, e.g. bounces, differently). */
  public SignetConfig withDkim(Dkim other) {
    return new SignetConfig(hostname, listen, tls, clients, limits, message, other, spool, delivery, metrics, dmarc,
        bounce, feedback, admin, tlsReports);
  }

  /** This config with another check of submitted data ({@code signet sign} normalizes local files). */
  public SignetConfig withMessage(MessagePolicy other) {
    return new SignetConfig(hostname, listen, tls, clients, limits, other, dkim, spool, delivery, metrics, dmarc,
        bounce, feedback, admin, tlsReports);
  }

  /** The domain bounces come from: {@code bounce.from}, else the hostname. */
  public String bounceDomain() {
    return bounce.from().orElse(hostname);
  }

  /** Where the relay listens. {@code smtps} is the optional implicit-TLS listener. */
  public record Listen(HostPort submission, Optional<HostPort> smtps) {}

  /** PEM certificate chain and private key for STARTTLS and implicit TLS. */
  public record Tls(Optional<Path> certificate, Optional<Path> key) {
    public boolean enabled() {
      return certificate.isPresent() && key.isPresent();
    }
  }

  /** Who may relay: addresses in {@code networks} without AUTH, users from the {@code users} file after AUTH. */
  public record Clients(List<Cidr> networks, Optional<Path> users) {}

  /**
   * @param connectionsReserved of {@code connections}, the slots only clients in clients.networks may take
   * @param unauthenticatedIdleTimeout the idle timeout of a session neither from clients.networks nor
   *     authenticated (yet)
   */
  public record Limits(
      long messageSize,
      int recipients,
      int connections,
      int connectionsPerIp,
      int connectionsReserved,
      Duration idleTimeout,
      Duration unauthenticatedIdleTimeout,
      Duration sessionTimeout) {}

  /** How submitted data is checked before signing. */
  public record MessagePolicy(BareLineEndings bareLineEndings) {}

  public enum BareLineEndings { REJECT, NORMALIZE }

  public record Dkim(
      Path keys,
      List<String> headers,
      List<String> oversign,
      Canonicalization canonicalization,
      Optional<Duration> expire,
      boolean subdomains,
      UnsignedPolicy unsigned) {
    /** What of this the signer itself uses. */
    public SignerOptions signer() {
      return new SignerOptions(canonicalization, headers, oversign, expire);
    }
  }

  public enum UnsignedPolicy { RELAY, REJECT }

  public record Spool(Path dir) {}

  public record Delivery(
      List<HostPort> dns,
      int port,
      List<Duration> retry,
      Duration maxAge,
      Optional<Duration> delayWarning,
      int concurrency,
      int perDomain,
      Optional<Smarthost> smarthost,
      TlsMode tls,
      List<InetAddress> sourceAddresses,
      AddressLiterals addressLiterals,
      Map<String, TlsLevel> tlsPolicy,
      Optional<Path> caFile,
      MtaStsMode mtaSts,
      boolean dane,
      Optional<Path> trustAnchor,
      Optional<Path> shaping,
      Optional<String> shapingRedis) {

    public Delivery {
      sourceAddresses = List.copyOf(sourceAddresses);
      tlsPolicy = Map.copyOf(tlsPolicy);
    }

    /**
     * Defaults for the rest: the system picks the outgoing address (any family), literals refused, no
     * per-domain TLS policy, JDK roots, MTA-STS enforced, DANE on.
     */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost,
        TlsMode tls) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of());
    }

    /** With {@code source-addresses}; the rest at its defaults. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost,
        TlsMode tls, List<InetAddress> sourceAddresses) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, sourceAddresses,
          AddressLiterals.REJECT, Map.of(), Optional.empty(), MtaStsMode.ENFORCE, true, Optional.empty(),
          Optional.empty(), Optional.empty());
    }

    /** With {@code delivery.address-literals}; the rest at its defaults. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost, TlsMode tls,
        AddressLiterals addressLiterals) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of(), addressLiterals,
          Map.of(), Optional.empty(), MtaStsMode.ENFORCE, true, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** With the delivery-security keys; the rest at its defaults. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost, TlsMode tls,
        Map<String, TlsLevel> tlsPolicy, Optional<Path> caFile, MtaStsMode mtaSts, boolean dane,
        Optional<Path> trustAnchor) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of(),
          AddressLiterals.REJECT, tlsPolicy, caFile, mtaSts, dane, trustAnchor, Optional.empty(), Optional.empty());
    }

    /** With a shaping file of its own and/or Redis; the rest at its defaults. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost, TlsMode tls,
        Optional<Path> shaping, Optional<String> shapingRedis) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of(),
          AddressLiterals.REJECT, Map.of(), Optional.empty(), MtaStsMode.ENFORCE, true, Optional.empty(), shaping,
          shapingRedis);
    }
  }

  /** Recipients at an address literal ({@code user@[192.0.2.1]}, RFC 5321 §4.1.3): refused (550 5.1.2) or accepted. */
  public enum AddressLiterals { REJECT, ALLOW }

  public record Smarthost(HostPort address, Optional<String> username, Optional<String> password, SmarthostTls tls) {}

  /** TLS towards a smarthost: STARTTLS if offered, STARTTLS required, or implicit TLS (port 465 style). */
  public enum SmarthostTls { OPPORTUNISTIC, REQUIRED, IMPLICIT }

  public enum TlsMode { OPPORTUNISTIC, REQUIRED }

  /**
   * Per-domain TLS levels ({@code delivery.tls-policy}), as Postfix's smtp_tls_security_level: plaintext
   * only; STARTTLS if offered; STARTTLS required; STARTTLS with a certificate that chains to a trusted
   * root and names the MX host; DANE (RFC 7672) required.
   */
  public enum TlsLevel { NONE, OPPORTUNISTIC, ENCRYPT, VERIFY, DANE }

  /** {@code delivery.mta-sts}: obey each domain's policy, treat every policy as "testing", or ignore MTA-STS. */
  public enum MtaStsMode { ENFORCE, TESTING_ONLY, OFF }

  public record Metrics(HostPort listen) {}

  /** What the relay tells applications after the 250: delivery events and the suppression list. */
  public record Feedback(Events events, Suppression suppression) {}

  /**
   * @param webhooks where events are POSTed
   * @param maxAge how long an event is retried towards a webhook (and kept in the event store)
   * @param bounceRules the bounce classification rules file; empty = the shipped rules
   */
  public record Events(List<Webhook> webhooks, Duration maxAge, Optional<Path> bounceRules) {}

  /**
   * One webhook.
   *
   * @param types the event types sent to it; empty = all
   */
  public record Webhook(java.net.URI url, String secret, List<String> types) {}

  /**
   * @param ttl how long an address stays suppressed after a hard bounce
   * @param action what a message to a suppressed address gets: refused at RCPT, or accepted and bounced
   * @param classes the bounce classes whose hard bounces suppress the address
   */
  public record Suppression(Duration ttl, SuppressionAction action, List<String> classes) {}

  public enum SuppressionAction { REFUSE, EVENT }

  /**
   * The HTTP admin API.
   *
   * @param token the bearer token every request must carry ({@code admin.token}, or the first line
   *     of {@code admin.token-file}); without one, the API answers only on a loopback listener
   */
  public record Admin(HostPort listen, Optional<String> token) {
    @Override
    public String toString() {
      return "Admin[listen=" + listen + ", token=" + (token.isPresent() ? "(set)" : "(none)") + "]";
    }
  }

  /** The embedded defaults: what {@code serve} runs with when no config file is given. */
  public static SignetConfig defaults() {
    try {
      return ConfigReader.read(Map.of(), Map.of());
    } catch (ConfigException e) {
      throw new IllegalStateException("embedded defaults are invalid: " + e.getMessage(), e);
    }
  }

  /**
   * Reads {@code file} (absent = embedded defaults) and applies SIGNET_* overrides from {@code env}.
   *
   * @throws ConfigException naming the file and key at fault
   */
  public static SignetConfig load(Optional<Path> file, Map<String, String> env) throws ConfigException {
    Map<String, Object> tree = Map.of();
    if (file.isPresent()) {
      Path path = file.get();
      try (InputStream in = Files.newInputStream(path)) {
        tree = ConfigReader.parseYaml(in, path.toString());
      } catch (NoSuchFileException e) {
        throw new ConfigException(path + ": no such file");
      } catch (IOException e) {
        throw new ConfigException(path + ": cannot read: " + e.getMessage());
      }
    }
    try {
      return ConfigReader.read(tree, env);
    } catch (ConfigException e) {
      throw file.isPresent() ? new ConfigException(file.get() + ": " + e.getMessage()) : e;
    }
  }

  /** A duration in the config's format ({@code 30s}, {@code 5m}, {@code 2h}, {@code 5d}), for the CLI's options. */
  public static Duration duration(String text) {
    return ConfigReader.duration(text);
  }

  static String defaultHostname() {
    try {
      String name = InetAddress.getLocalHost().getCanonicalHostName();
      // Without a reverse record the JDK returns the address itself, which is no EHLO name.
      if (name.matches("[0-9.]+") || name.contains(":")) {
        return "localhost.localdomain";
      }
      return DomainName.fullyQualified(name);
    } catch (IllegalArgumentException e) {
      return "localhost.localdomain";
    } catch (UnknownHostException e) {
      return "localhost.localdomain";
    }
  }
}
