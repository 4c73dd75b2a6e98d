package dev.signet.config;

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
 * Keys and value formats are the contract of DESIGN.md ("Config").
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
    Feedback feedback,
    Admin admin) {

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

  public record Limits(
      long messageSize,
      int recipients,
      int connections,
      int connectionsPerIp,
      Duration idleTimeout,
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
      UnsignedPolicy unsigned) {}

  /** Header and body canonicalization, RFC 6376 §3.4 ({@code c=header/body}). */
  public record Canonicalization(Canon header, Canon body) {
    public enum Canon { SIMPLE, RELAXED }

    public static Canonicalization parse(String text) {
      String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("/", -1);
      if (parts.length > 2 || parts[0].isEmpty()) {
        throw new IllegalArgumentException("expected header/body canonicalization like relaxed/relaxed, got '" + text + "'");
      }
      Canon header = canon(parts[0], text);
      // RFC 6376 §3.5 c=: a missing body algorithm means "simple".
      Canon body = parts.length == 2 ? canon(parts[1], text) : Canon.SIMPLE;
      return new Canonicalization(header, body);
    }

    private static Canon canon(String name, String text) {
      return switch (name) {
        case "simple" -> Canon.SIMPLE;
        case "relaxed" -> Canon.RELAXED;
        default -> throw new IllegalArgumentException(
            "expected simple or relaxed in '" + text + "', got '" + name + "'");
      };
    }

    /** The value of the c= tag. */
    @Override
    public String toString() {
      return header.name().toLowerCase(java.util.Locale.ROOT) + "/" + body.name().toLowerCase(java.util.Locale.ROOT);
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
      TlsMode tls) {}

  public record Smarthost(HostPort address, Optional<String> username, Optional<String> password, SmarthostTls tls) {}

  /** TLS towards a smarthost: STARTTLS if offered, STARTTLS required, or implicit TLS (port 465 style). */
  public enum SmarthostTls { OPPORTUNISTIC, REQUIRED, IMPLICIT }

  public enum TlsMode { OPPORTUNISTIC, REQUIRED }

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
      return name.contains(".") ? name : "localhost.localdomain";
    } catch (UnknownHostException e) {
      return "localhost.localdomain";
    }
  }
}
