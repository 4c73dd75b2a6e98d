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
    Bounce bounce) {

  /** Without DMARC report polling, and with the default bounce settings. */
  public SignetConfig(String hostname, Listen listen, Tls tls, Clients clients, Limits limits, MessagePolicy message,
      Dkim dkim, Spool spool, Delivery delivery, Metrics metrics) {
    this(hostname, listen, tls, clients, limits, message, dkim, spool, delivery, metrics,
        new Dmarc(Optional.empty(), Duration.ofMinutes(15)), new Bounce(Optional.empty()));
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
        bounce);
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
      AddressLiterals addressLiterals) {

    /** Defaults for the rest: the system picks the outgoing address (any family), literals refused. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost,
        TlsMode tls) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of());
    }

    /** With {@code source-addresses}; address literals refused (the default). */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost,
        TlsMode tls, List<InetAddress> sourceAddresses) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, sourceAddresses,
          AddressLiterals.REJECT);
    }

    /** With {@code delivery.address-literals}; the system picks the outgoing address. */
    public Delivery(List<HostPort> dns, int port, List<Duration> retry, Duration maxAge,
        Optional<Duration> delayWarning, int concurrency, int perDomain, Optional<Smarthost> smarthost, TlsMode tls,
        AddressLiterals addressLiterals) {
      this(dns, port, retry, maxAge, delayWarning, concurrency, perDomain, smarthost, tls, List.of(), addressLiterals);
    }
  }

  /** Recipients at an address literal ({@code user@[192.0.2.1]}, RFC 5321 §4.1.3): refused (550 5.1.2) or accepted. */
  public enum AddressLiterals { REJECT, ALLOW }

  public record Smarthost(HostPort address, Optional<String> username, Optional<String> password, SmarthostTls tls) {}

  /** TLS towards a smarthost: STARTTLS if offered, STARTTLS required, or implicit TLS (port 465 style). */
  public enum SmarthostTls { OPPORTUNISTIC, REQUIRED, IMPLICIT }

  public enum TlsMode { OPPORTUNISTIC, REQUIRED }

  public record Metrics(HostPort listen) {}

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
