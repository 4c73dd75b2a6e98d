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

  /**
   * A configuration built key by key: how the config reader builds it, and how a variant of
   * {@link #defaults()} is made ({@code defaults().toBuilder().spool(...).build()}).
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this record's values, to change some of them by name. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.hostname = hostname;
    b.listen = listen;
    b.tls = tls;
    b.clients = clients;
    b.limits = limits;
    b.message = message;
    b.dkim = dkim;
    b.spool = spool;
    b.delivery = delivery;
    b.metrics = metrics;
    b.dmarc = dmarc;
    b.bounce = bounce;
    b.feedback = feedback;
    b.admin = admin;
    b.tlsReports = tlsReports;
    return b;
  }

  /** Sets the values by name; {@link #build} refuses one left unset. */
  public static final class Builder {
    private String hostname;
    private Listen listen;
    private Tls tls;
    private Clients clients;
    private Limits limits;
    private MessagePolicy message;
    private Dkim dkim;
    private Spool spool;
    private Delivery delivery;
    private Metrics metrics;
    private Dmarc dmarc;
    private Bounce bounce;
    private Feedback feedback;
    private Admin admin;
    private TlsReports tlsReports;

    private Builder() {}

    public Builder hostname(String hostname) {
      this.hostname = hostname;
      return this;
    }

    public Builder listen(Listen listen) {
      this.listen = listen;
      return this;
    }

    public Builder tls(Tls tls) {
      this.tls = tls;
      return this;
    }

    public Builder clients(Clients clients) {
      this.clients = clients;
      return this;
    }

    public Builder limits(Limits limits) {
      this.limits = limits;
      return this;
    }

    public Builder message(MessagePolicy message) {
      this.message = message;
      return this;
    }

    public Builder dkim(Dkim dkim) {
      this.dkim = dkim;
      return this;
    }

    public Builder spool(Spool spool) {
      this.spool = spool;
      return this;
    }

    public Builder delivery(Delivery delivery) {
      this.delivery = delivery;
      return this;
    }

    public Builder metrics(Metrics metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder dmarc(Dmarc dmarc) {
      this.dmarc = dmarc;
      return this;
    }

    public Builder bounce(Bounce bounce) {
      this.bounce = bounce;
      return this;
    }

    public Builder feedback(Feedback feedback) {
      this.feedback = feedback;
      return this;
    }

    public Builder admin(Admin admin) {
      this.admin = admin;
      return this;
    }

    public Builder tlsReports(TlsReports tlsReports) {
      this.tlsReports = tlsReports;
      return this;
    }

    public SignetConfig build() {
      return new SignetConfig(set(hostname, "hostname"), set(listen, "listen"), set(tls, "tls"),
          set(clients, "clients"), set(limits, "limits"), set(message, "message"), set(dkim, "dkim"),
          set(spool, "spool"), set(delivery, "delivery"), set(metrics, "metrics"), set(dmarc, "dmarc"),
          set(bounce, "bounce"), set(feedback, "feedback"), set(admin, "admin"), set(tlsReports, "tlsReports"));
    }
  }

  /** {@code value}, unless a builder left it unset. */
  private static <T> T set(T value, String name) {
    if (value == null) {
      throw new IllegalStateException(name + " is not set");
    }
    return value;
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
    return toBuilder().dkim(other).build();
  }

  /** This config with another check of submitted data ({@code signet sign} normalizes local files). */
  public SignetConfig withMessage(MessagePolicy other) {
    return toBuilder().message(other).build();
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
      Duration sessionTimeout) {

    /** The session limits built key by key. */
    public static Builder builder() {
      return new Builder();
    }

    /** A builder holding this record's values, to change some of them by name. */
    public Builder toBuilder() {
      Builder b = new Builder();
      b.messageSize = messageSize;
      b.recipients = recipients;
      b.connections = connections;
      b.connectionsPerIp = connectionsPerIp;
      b.connectionsReserved = connectionsReserved;
      b.idleTimeout = idleTimeout;
      b.unauthenticatedIdleTimeout = unauthenticatedIdleTimeout;
      b.sessionTimeout = sessionTimeout;
      return b;
    }

    /** Sets the values by name; {@link #build} refuses one left unset. */
    public static final class Builder {
      private Long messageSize;
      private Integer recipients;
      private Integer connections;
      private Integer connectionsPerIp;
      private Integer connectionsReserved;
      private Duration idleTimeout;
      private Duration unauthenticatedIdleTimeout;
      private Duration sessionTimeout;

      private Builder() {}

      public Builder messageSize(long messageSize) {
        this.messageSize = messageSize;
        return this;
      }

      public Builder recipients(int recipients) {
        this.recipients = recipients;
        return this;
      }

      public Builder connections(int connections) {
        this.connections = connections;
        return this;
      }

      public Builder connectionsPerIp(int connectionsPerIp) {
        this.connectionsPerIp = connectionsPerIp;
        return this;
      }

      public Builder connectionsReserved(int connectionsReserved) {
        this.connectionsReserved = connectionsReserved;
        return this;
      }

      public Builder idleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
        return this;
      }

      public Builder unauthenticatedIdleTimeout(Duration unauthenticatedIdleTimeout) {
        this.unauthenticatedIdleTimeout = unauthenticatedIdleTimeout;
        return this;
      }

      public Builder sessionTimeout(Duration sessionTimeout) {
        this.sessionTimeout = sessionTimeout;
        return this;
      }

      public Limits build() {
        return new Limits(set(messageSize, "messageSize"), set(recipients, "recipients"),
            set(connections, "connections"), set(connectionsPerIp, "connectionsPerIp"),
            set(connectionsReserved, "connectionsReserved"), set(idleTimeout, "idleTimeout"),
            set(unauthenticatedIdleTimeout, "unauthenticatedIdleTimeout"), set(sessionTimeout, "sessionTimeout"));
      }
    }
  }

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

    /** The DKIM settings built key by key. */
    public static Builder builder() {
      return new Builder();
    }

    /** A builder holding this record's values, to change some of them by name. */
    public Builder toBuilder() {
      Builder b = new Builder();
      b.keys = keys;
      b.headers = headers;
      b.oversign = oversign;
      b.canonicalization = canonicalization;
      b.expire = expire;
      b.subdomains = subdomains;
      b.unsigned = unsigned;
      return b;
    }

    /** Sets the values by name; {@link #build} refuses one left unset. */
    public static final class Builder {
      private Path keys;
      private List<String> headers;
      private List<String> oversign;
      private Canonicalization canonicalization;
      private Optional<Duration> expire;
      private Boolean subdomains;
      private UnsignedPolicy unsigned;

      private Builder() {}

      public Builder keys(Path keys) {
        this.keys = keys;
        return this;
      }

      public Builder headers(List<String> headers) {
        this.headers = headers;
        return this;
      }

      public Builder oversign(List<String> oversign) {
        this.oversign = oversign;
        return this;
      }

      public Builder canonicalization(Canonicalization canonicalization) {
        this.canonicalization = canonicalization;
        return this;
      }

      public Builder expire(Optional<Duration> expire) {
        this.expire = expire;
        return this;
      }

      public Builder subdomains(boolean subdomains) {
        this.subdomains = subdomains;
        return this;
      }

      public Builder unsigned(UnsignedPolicy unsigned) {
        this.unsigned = unsigned;
        return this;
      }

      public Dkim build() {
        return new Dkim(set(keys, "keys"), set(headers, "headers"), set(oversign, "oversign"),
            set(canonicalization, "canonicalization"), set(expire, "expire"), set(subdomains, "subdomains"),
            set(unsigned, "unsigned"));
      }
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

    /** The delivery settings built key by key. */
    public static Builder builder() {
      return new Builder();
    }

    /** A builder holding this record's values, to change some of them by name. */
    public Builder toBuilder() {
      Builder b = new Builder();
      b.dns = dns;
      b.port = port;
      b.retry = retry;
      b.maxAge = maxAge;
      b.delayWarning = delayWarning;
      b.concurrency = concurrency;
      b.perDomain = perDomain;
      b.smarthost = smarthost;
      b.tls = tls;
      b.sourceAddresses = sourceAddresses;
      b.addressLiterals = addressLiterals;
      b.tlsPolicy = tlsPolicy;
      b.caFile = caFile;
      b.mtaSts = mtaSts;
      b.dane = dane;
      b.trustAnchor = trustAnchor;
      b.shaping = shaping;
      b.shapingRedis = shapingRedis;
      return b;
    }

    /** Sets the values by name; {@link #build} refuses one left unset. */
    public static final class Builder {
      private List<HostPort> dns;
      private Integer port;
      private List<Duration> retry;
      private Duration maxAge;
      private Optional<Duration> delayWarning;
      private Integer concurrency;
      private Integer perDomain;
      private Optional<Smarthost> smarthost;
      private TlsMode tls;
      private List<InetAddress> sourceAddresses;
      private AddressLiterals addressLiterals;
      private Map<String, TlsLevel> tlsPolicy;
      private Optional<Path> caFile;
      private MtaStsMode mtaSts;
      private Boolean dane;
      private Optional<Path> trustAnchor;
      private Optional<Path> shaping;
      private Optional<String> shapingRedis;

      private Builder() {}

      public Builder dns(List<HostPort> dns) {
        this.dns = dns;
        return this;
      }

      public Builder port(int port) {
        this.port = port;
        return this;
      }

      public Builder retry(List<Duration> retry) {
        this.retry = retry;
        return this;
      }

      public Builder maxAge(Duration maxAge) {
        this.maxAge = maxAge;
        return this;
      }

      public Builder delayWarning(Optional<Duration> delayWarning) {
        this.delayWarning = delayWarning;
        return this;
      }

      public Builder concurrency(int concurrency) {
        this.concurrency = concurrency;
        return this;
      }

      public Builder perDomain(int perDomain) {
        this.perDomain = perDomain;
        return this;
      }

      public Builder smarthost(Optional<Smarthost> smarthost) {
        this.smarthost = smarthost;
        return this;
      }

      public Builder tls(TlsMode tls) {
        this.tls = tls;
        return this;
      }

      public Builder sourceAddresses(List<InetAddress> sourceAddresses) {
        this.sourceAddresses = sourceAddresses;
        return this;
      }

      public Builder addressLiterals(AddressLiterals addressLiterals) {
        this.addressLiterals = addressLiterals;
        return this;
      }

      public Builder tlsPolicy(Map<String, TlsLevel> tlsPolicy) {
        this.tlsPolicy = tlsPolicy;
        return this;
      }

      public Builder caFile(Optional<Path> caFile) {
        this.caFile = caFile;
        return this;
      }

      public Builder mtaSts(MtaStsMode mtaSts) {
        this.mtaSts = mtaSts;
        return this;
      }

      public Builder dane(boolean dane) {
        this.dane = dane;
        return this;
      }

      public Builder trustAnchor(Optional<Path> trustAnchor) {
        this.trustAnchor = trustAnchor;
        return this;
      }

      public Builder shaping(Optional<Path> shaping) {
        this.shaping = shaping;
        return this;
      }

      public Builder shapingRedis(Optional<String> shapingRedis) {
        this.shapingRedis = shapingRedis;
        return this;
      }

      public Delivery build() {
        return new Delivery(set(dns, "dns"), set(port, "port"), set(retry, "retry"), set(maxAge, "maxAge"),
            set(delayWarning, "delayWarning"), set(concurrency, "concurrency"), set(perDomain, "perDomain"),
            set(smarthost, "smarthost"), set(tls, "tls"), set(sourceAddresses, "sourceAddresses"),
            set(addressLiterals, "addressLiterals"), set(tlsPolicy, "tlsPolicy"), set(caFile, "caFile"),
            set(mtaSts, "mtaSts"), set(dane, "dane"), set(trustAnchor, "trustAnchor"), set(shaping, "shaping"),
            set(shapingRedis, "shapingRedis"));
      }
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

  /**
   * A duration in the config's format ({@code 30s}, {@code 5m}, {@code 2h}, {@code 5d}), for the CLI's options
   * and the shaping file.
   */
  public static Duration duration(String text) {
    return ConfigReader.duration(text);
  }

  /** A whole number above zero, as the config reads one (for the shaping file). */
  public static int positiveInt(String text) {
    return ConfigReader.positiveInt(text);
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
