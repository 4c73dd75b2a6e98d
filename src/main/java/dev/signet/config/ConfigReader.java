package dev.signet.config;

import dev.signet.config.SignetConfig.BareLineEndings;
import dev.signet.config.SignetConfig.MtaStsMode;
import dev.signet.dkim.Canonicalization;
import dev.signet.config.SignetConfig.SmarthostTls;
import dev.signet.config.SignetConfig.TlsLevel;
import dev.signet.config.SignetConfig.TlsMode;
import dev.signet.config.SignetConfig.UnsignedPolicy;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Turns the YAML tree and SIGNET_* variables into a {@link SignetConfig}. Every key has a default;
 * an unknown key or a bad value is an error naming the key, so a typo never silently runs with a default.
 */
final class ConfigReader {

  /** Leaf keys and their defaults; {@code null} = optional, absent by default. Order = documentation order. */
  static final Map<String, Object> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("hostname", null);
    DEFAULTS.put("listen.submission", "127.0.0.1:2525");
    DEFAULTS.put("listen.smtps", null);
    DEFAULTS.put("tls.certificate", null);
    DEFAULTS.put("tls.key", null);
    DEFAULTS.put("clients.networks", List.of("127.0.0.0/8", "::1/128"));
    DEFAULTS.put("clients.users", null);
    // A network covering every address (0.0.0.0/0, ::/0) is an open relay wherever the port is
    // reachable; it is refused unless this says a firewall in front of the relay does the job.
    DEFAULTS.put("clients.allow-open-relay", "false");
    DEFAULTS.put("limits.message-size", "25MB");
    // RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients.
    DEFAULTS.put("limits.recipients", "100");
    DEFAULTS.put("limits.connections", "200");
    DEFAULTS.put("limits.connections-per-ip", "20");
    // Of limits.connections, kept for clients.networks; absent = a quarter.
    DEFAULTS.put("limits.connections-reserved", null);
    // RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.
    DEFAULTS.put("limits.idle-timeout", "5m");
    // Clients neither in clients.networks nor authenticated yet: strangers do not get to hold a slot for minutes.
    DEFAULTS.put("limits.unauthenticated-idle-timeout", "30s");
    DEFAULTS.put("limits.session-timeout", "30m");
    DEFAULTS.put("message.bare-line-endings", "reject");
    DEFAULTS.put("dkim.keys", "keys");
    DEFAULTS.put("dkim.headers", List.of(
        "From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "Content-ID", "Content-Description", "List-Id", "List-Help", "List-Unsubscribe",
        "List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
        "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc", "Feedback-ID"));
    DEFAULTS.put("dkim.oversign", List.of(
        "From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        "List-Unsubscribe", "List-Unsubscribe-Post"));
    DEFAULTS.put("dkim.canonicalization", "relaxed/relaxed");
    DEFAULTS.put("dkim.expire", null);
    DEFAULTS.put("dkim.subdomains", "false");
    DEFAULTS.put("dkim.unsigned", "reject");
    DEFAULTS.put("spool.dir", "spool");
    DEFAULTS.put("delivery.dns", List.of());
    DEFAULTS.put("delivery.port", "25");
    DEFAULTS.put("delivery.retry", List.of("1m", "5m", "15m", "30m", "1h", "2h", "4h"));
    DEFAULTS.put("delivery.max-age", "5d");
    DEFAULTS.put("delivery.delay-warning", null);
    DEFAULTS.put("delivery.concurrency", "100");
    DEFAULTS.put("delivery.per-domain", "20");
    DEFAULTS.put("delivery.smarthost", null); // host:port string, or the map below
    DEFAULTS.put("delivery.smarthost.address", null);
    DEFAULTS.put("delivery.smarthost.username", null);
    DEFAULTS.put("delivery.smarthost.password", null);
    DEFAULTS.put("delivery.smarthost.tls", "required");
    DEFAULTS.put("delivery.tls", "opportunistic");
    DEFAULTS.put("delivery.source-addresses", List.of());
    DEFAULTS.put("delivery.address-literals", "reject");
    DEFAULTS.put("delivery.tls-policy", Map.of()); // domain -> none|opportunistic|encrypt|verify|dane
    DEFAULTS.put("delivery.ca-file", null);
    DEFAULTS.put("delivery.mta-sts", "enforce");
    DEFAULTS.put("delivery.dane", "on");
    DEFAULTS.put("delivery.dnssec.trust-anchor", null); // default: the IANA root anchors in the jar
    DEFAULTS.put("delivery.shaping", null); // absent = the shaping file built into the jar
    DEFAULTS.put("delivery.shaping-redis", null);
    DEFAULTS.put("delivery.tls-reports.from", null); // unset: no TLS reports
    DEFAULTS.put("delivery.tls-reports.organization", null); // default: the domain of from
    DEFAULTS.put("metrics.listen", "127.0.0.1:9465");
    DEFAULTS.put("dmarc.imap", null);
    DEFAULTS.put("dmarc.poll", "15m");
    DEFAULTS.put("bounce.from", null);
    DEFAULTS.put("events.webhooks", List.of()); // a list of maps {url, secret, types}: see Feedback
    DEFAULTS.put("events.max-age", "24h");
    DEFAULTS.put("events.bounce-rules", null);
    DEFAULTS.put("suppression.ttl", "30d");
    DEFAULTS.put("suppression.action", "refuse");
    DEFAULTS.put("suppression.classes", List.of("invalid-recipient"));
    DEFAULTS.put("admin.listen", "127.0.0.1:9466");
    DEFAULTS.put("admin.token", null);
    DEFAULTS.put("admin.token-file", null);
  }

  private ConfigReader() {}

  static Map<String, Object> parseYaml(InputStream in, String source) throws ConfigException {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromInputStream(in);
    } catch (YamlEngineException e) {
      throw new ConfigException("not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      return Map.of();
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new ConfigException("expected a map of settings at the top level");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> tree = (Map<String, Object>) map;
    return tree;
  }

  static SignetConfig read(Map<String, Object> tree, Map<String, String> env) throws ConfigException {
    try {
      Map<String, Object> values = new LinkedHashMap<>(DEFAULTS);
      flatten("", tree, values);
      applyEnvironment(env, values);
      return new ConfigReader.Builder(values).build();
    } catch (ConfigError e) {
      throw new ConfigException(e.getMessage());
    }
  }

  /** Walks the YAML tree into dotted leaf keys, refusing keys that are not settings. */
  private static void flatten(String prefix, Map<?, ?> tree, Map<String, Object> out) {
    for (Map.Entry<?, ?> entry : tree.entrySet()) {
      String key = prefix + entry.getKey();
      Object value = entry.getValue();
      if (value == null && isSection(key) && !DEFAULTS.containsKey(key)) {
        continue; // a section whose keys are all commented out
      }
      if (value instanceof Map<?, ?> child && (key.equals("delivery.smarthost") || !DEFAULTS.containsKey(key))) {
        if (!isSection(key)) {
          throw new ConfigError(key, "unknown setting");
        }
        flatten(key + ".", child, out);
      } else if (!DEFAULTS.containsKey(key)) {
        throw new ConfigError(key, isSection(key) ? "expected a map of settings" : "unknown setting");
      } else {
        out.put(key, value);
      }
    }
  }

  private static boolean isSection(String key) {
    return DEFAULTS.keySet().stream().anyMatch(k -> k.startsWith(key + "."));
  }

  /** {@code delivery.max-age} is overridden by SIGNET_DELIVERY_MAX_AGE. */
  static String environmentName(String key) {
    return "SIGNET_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /**
   * Variables the {@code signet} launcher script reads itself (JVM options, the jar to run); they share
   * the SIGNET_ prefix but are not config keys, so the relay must not refuse them as unknown settings.
   */
  static final Set<String> LAUNCHER_VARIABLES =
      Set.of("SIGNET_JAVA_OPTS", "SIGNET_JAR", "SIGNET_STARTUP_CACHE", "SIGNET_STARTUP_CACHE_DIR");

  private static void applyEnvironment(Map<String, String> env, Map<String, Object> values) {
    Map<String, String> keysByVariable = new LinkedHashMap<>();
    DEFAULTS.keySet().forEach(k -> keysByVariable.put(environmentName(k), k));
    for (Map.Entry<String, String> entry : env.entrySet()) {
      if (!entry.getKey().startsWith("SIGNET_") || LAUNCHER_VARIABLES.contains(entry.getKey())) {
        continue;
      }
      String key = keysByVariable.get(entry.getKey());
      if (key == null) {
        throw new ConfigError(entry.getKey(), "unknown environment setting (settings are "
            + environmentName("delivery.max-age") + " style names of the config keys)");
      }
      values.put(key, entry.getValue());
    }
  }

  /** Unchecked while building, turned into {@link ConfigException} at the edge. */
  static final class ConfigError extends RuntimeException {
    ConfigError(String key, String problem) {
      super(key + ": " + problem);
    }
  }

  static final class Builder {
    private final Map<String, Object> values;

    Builder(Map<String, Object> values) {
      this.values = values;
    }

    /** The value of {@code key} as given (YAML tree or environment string); null when absent. */
    Object raw(String key) {
      return values.get(key);
    }

    SignetConfig build() {
      return SignetConfig.builder()
          // EHLO, Received and Message-ID carry it: CR/LF would inject header fields (RFC 5321 §4.1.1.1: an FQDN).
          .hostname(optional("hostname", DomainName::fullyQualified).orElseGet(SignetConfig::defaultHostname))
          .listen(new SignetConfig.Listen(
              required("listen.submission", HostPort::parse),
              optional("listen.smtps", HostPort::parse)))
          .tls(tls())
          .clients(new SignetConfig.Clients(networks(), optional("clients.users", Path::of)))
          .limits(limits())
          .message(new SignetConfig.MessagePolicy(
              required("message.bare-line-endings", v -> choice(v, BareLineEndings.class))))
          .dkim(SignetConfig.Dkim.builder()
              .keys(required("dkim.keys", Path::of))
              .headers(list("dkim.headers", ConfigReader::headerName))
              .oversign(list("dkim.oversign", ConfigReader::headerName))
              .canonicalization(required("dkim.canonicalization", Canonicalization::parse))
              .expire(expire())
              .subdomains(required("dkim.subdomains", ConfigReader::bool))
              .unsigned(required("dkim.unsigned", v -> choice(v, UnsignedPolicy.class)))
              .build())
          .spool(new SignetConfig.Spool(required("spool.dir", Path::of)))
          .delivery(delivery())
          .metrics(new SignetConfig.Metrics(required("metrics.listen", HostPort::parse)))
          .dmarc(new SignetConfig.Dmarc(optional("dmarc.imap", ConfigReader::imapUrl),
              required("dmarc.poll", ConfigReader::duration)))
          .bounce(new SignetConfig.Bounce(optional("bounce.from", DomainName::fullyQualified)))
          .feedback(FeedbackSettings.read(this))
          .admin(FeedbackSettings.admin(this))
          .tlsReports(new SignetConfig.TlsReports(optional("delivery.tls-reports.from", ConfigReader::reportAddress),
              optional("delivery.tls-reports.organization", ConfigReader::organization)))
          .build();
    }

    private List<Cidr> networks() {
      List<Cidr> networks = list("clients.networks", Cidr::parse);
      if (!required("clients.allow-open-relay", ConfigReader::bool)) {
        for (Cidr network : networks) {
          if (network.prefix() == 0) {
            throw new ConfigError("clients.networks", network + " lets every address relay mail without"
                + " AUTH: an open relay wherever the port is reachable. List your applications' networks, or set"
                + " clients.allow-open-relay: true if a firewall in front of Signet limits who connects");
          }
        }
      }
      return networks;
    }

    /**
     * RFC 6376 §3.5 x=: a verifier fails a signature after it. A message may wait for delivery up to
     * delivery.max-age, so a shorter expiry would send late retries out with dead signatures.
     */
    private Optional<Duration> expire() {
      Optional<Duration> expire = optional("dkim.expire", ConfigReader::duration);
      Duration maxAge = required("delivery.max-age", ConfigReader::duration);
      if (expire.isPresent() && expire.get().compareTo(maxAge) < 0) {
        throw new ConfigError("dkim.expire", values.get("dkim.expire") + " is shorter than delivery.max-age ("
            + values.get("delivery.max-age") + "): a message delivered on a late retry would carry an expired"
            + " signature. Set at least " + values.get("delivery.max-age") + ", or lower delivery.max-age too");
      }
      return expire;
    }

    private SignetConfig.Limits limits() {
      int connections = required("limits.connections", ConfigReader::positiveInt);
      int reserved = optional("limits.connections-reserved", ConfigReader::nonNegativeInt).orElse(connections / 4);
      if (reserved >= connections) {
        throw new ConfigError("limits.connections-reserved", "must be less than limits.connections ("
            + connections + "), or clients outside clients.networks could never connect");
      }
      return SignetConfig.Limits.builder()
          .messageSize(required("limits.message-size", ConfigReader::messageSize))
          .recipients(required("limits.recipients", ConfigReader::positiveInt))
          .connections(connections)
          .connectionsPerIp(required("limits.connections-per-ip", ConfigReader::positiveInt))
          .connectionsReserved(reserved)
          .idleTimeout(required("limits.idle-timeout", ConfigReader::duration))
          .unauthenticatedIdleTimeout(required("limits.unauthenticated-idle-timeout", ConfigReader::duration))
          .sessionTimeout(required("limits.session-timeout", ConfigReader::duration))
          .build();
    }

    private SignetConfig.Tls tls() {
      SignetConfig.Tls tls = new SignetConfig.Tls(
          optional("tls.certificate", Path::of), optional("tls.key", Path::of));
      if (tls.certificate().isPresent() != tls.key().isPresent()) {
        throw new ConfigError(tls.certificate().isPresent() ? "tls.key" : "tls.certificate",
            "tls.certificate and tls.key go together; set both or neither");
      }
      return tls;
    }

    private SignetConfig.Delivery delivery() {
      List<Duration> retry = list("delivery.retry", ConfigReader::duration);
      if (retry.isEmpty()) {
        throw new ConfigError("delivery.retry", "expected at least one retry interval");
      }
      return SignetConfig.Delivery.builder()
          .dns(list("delivery.dns", v -> HostPort.parse(v.contains(":") && !v.endsWith("]") ? v : v + ":53")))
          .port(required("delivery.port", ConfigReader::port))
          .retry(retry)
          .maxAge(required("delivery.max-age", ConfigReader::duration))
          .delayWarning(optional("delivery.delay-warning", ConfigReader::duration))
          .concurrency(required("delivery.concurrency", ConfigReader::positiveInt))
          .perDomain(required("delivery.per-domain", ConfigReader::positiveInt))
          .smarthost(smarthost())
          .tls(required("delivery.tls", v -> choice(v, TlsMode.class)))
          .sourceAddresses(list("delivery.source-addresses", ConfigReader::ipAddress))
          .addressLiterals(required("delivery.address-literals", v -> choice(v, SignetConfig.AddressLiterals.class)))
          .tlsPolicy(tlsPolicy())
          .caFile(optional("delivery.ca-file", Path::of))
          .mtaSts(required("delivery.mta-sts", v -> choice(v, MtaStsMode.class)))
          .dane(required("delivery.dane", ConfigReader::bool))
          .trustAnchor(optional("delivery.dnssec.trust-anchor", Path::of))
          .shaping(optional("delivery.shaping", Path::of))
          .shapingRedis(optional("delivery.shaping-redis", ConfigReader::redisUri))
          .build();
    }

    /** {@code delivery.tls-policy}: a YAML map, or from the environment "a.example=verify,b.example=none". */
    private Map<String, TlsLevel> tlsPolicy() {
      String key = "delivery.tls-policy";
      Object raw = values.get(key);
      Map<String, String> entries = new LinkedHashMap<>();
      if (raw instanceof Map<?, ?> map) {
        map.forEach((k, v) -> entries.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
      } else if (raw != null) {
        String text = raw.toString().trim();
        if (text.startsWith("{") && text.endsWith("}")) {
          text = text.substring(1, text.length() - 1);
        }
        for (String item : text.split(",")) {
          if (item.isBlank()) {
            continue;
          }
          String[] pair = item.split("[=:]", 2);
          if (pair.length != 2) {
            throw new ConfigError(key, "expected domain=level pairs like example.net=verify, got '" + item.trim() + "'");
          }
          entries.put(pair[0].trim(), pair[1].trim());
        }
      }
      Map<String, TlsLevel> policy = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : entries.entrySet()) {
        String domain = e.getKey().trim().toLowerCase(Locale.ROOT);
        if (domain.endsWith(".")) {
          domain = domain.substring(0, domain.length() - 1);
        }
        if (domain.isEmpty() || !domain.matches("[\\p{L}\\p{N}_.-]+")) {
          throw new ConfigError(key, "not a domain: '" + e.getKey() + "'");
        }
        try {
          policy.put(domain, choice(e.getValue(), TlsLevel.class));
        } catch (IllegalArgumentException ex) {
          throw new ConfigError(key + "." + e.getKey(), ex.getMessage());
        }
      }
      return Map.copyOf(policy);
    }

    private Optional<SignetConfig.Smarthost> smarthost() {
      Optional<HostPort> plain = optional("delivery.smarthost", HostPort::parse);
      Optional<HostPort> address = optional("delivery.smarthost.address", HostPort::parse);
      if (plain.isPresent() && address.isPresent()) {
        throw new ConfigError("delivery.smarthost", "give either a host:port string or a map with address, not both");
      }
      Optional<HostPort> host = plain.or(() -> address);
      Optional<String> username = optional("delivery.smarthost.username", Function.identity());
      Optional<String> password = optional("delivery.smarthost.password", Function.identity());
      if (host.isEmpty()) {
        if (username.isPresent() || password.isPresent()) {
          throw new ConfigError("delivery.smarthost.address", "credentials given without a smarthost address");
        }
        return Optional.empty();
      }
      if (username.isPresent() != password.isPresent()) {
        throw new ConfigError("delivery.smarthost.password", "username and password go together");
      }
      return Optional.of(new SignetConfig.Smarthost(host.get(), username, password,
          required("delivery.smarthost.tls", v -> choice(v, SmarthostTls.class))));
    }

    <T> T required(String key, Function<String, T> parser) {
      return optional(key, parser).orElseThrow(() -> new ConfigError(key, "a value is required"));
    }

    <T> Optional<T> optional(String key, Function<String, T> parser) {
      Object raw = values.get(key);
      if (raw == null) {
        return Optional.empty();
      }
      if (raw instanceof List<?> || raw instanceof Map<?, ?>) {
        throw new ConfigError(key, "expected a single value, got " + (raw instanceof List ? "a list" : "a map"));
      }
      try {
        return Optional.of(parser.apply(raw.toString()));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(key, e.getMessage());
      }
    }

    <T> List<T> list(String key, Function<String, T> parser) {
      Object raw = values.get(key);
      List<String> items = new ArrayList<>();
      if (raw instanceof List<?> list) {
        list.forEach(item -> items.add(String.valueOf(item)));
      } else if (raw != null) {
        // From the environment: "[a, b]" or "a,b".
        String text = raw.toString().trim();
        if (text.startsWith("[") && text.endsWith("]")) {
          text = text.substring(1, text.length() - 1);
        }
        for (String item : text.split(",")) {
          if (!item.isBlank()) {
            items.add(item.trim());
          }
        }
      }
      List<T> out = new ArrayList<>();
      for (String item : items) {
        try {
          out.add(parser.apply(item));
        } catch (IllegalArgumentException e) {
          throw new ConfigError(key, e.getMessage());
        }
      }
      return List.copyOf(out);
    }
  }

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMG]i?B|B)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  static long size(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a size like 100000 or 25MB, got '" + text + "'");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("size '" + text + "' is too large");
    }
    String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
    long factor = switch (unit.charAt(0)) {
      case 'K' -> unit.contains("I") ? 1L << 10 : 1000L;
      case 'M' -> unit.contains("I") ? 1L << 20 : 1000L * 1000;
      case 'G' -> unit.contains("I") ? 1L << 30 : 1000L * 1000 * 1000;
      default -> 1L;
    };
    if (n <= 0) {
      throw new IllegalArgumentException("expected a size above zero, got '" + text + "'");
    }
    try {
      return Math.multiplyExact(n, factor);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("size '" + text + "' is too large");
    }
  }

  /** The submission server counts message bytes in an int (SubEthaSMTP), so 2 GiB - 1 is the most. */
  static long messageSize(String text) {
    long n = size(text);
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("expected at most 2GiB (2147483647 bytes), got '" + text + "'");
    }
    return n;
  }

  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a duration like 30s, 5m, 2h or 5d, got '" + text + "'");
    }
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too large");
    }
  }

  /** {@code redis://host:port} (optionally {@code redis://:password@host:port/db}). */
  static String redisUri(String text) {
    String t = text.trim();
    if (!t.matches("redis://[^/\\s]+(/\\d+)?")) {
      throw new IllegalArgumentException("expected redis://host:port, got '" + text + "'");
    }
    return t;
  }

  static int positiveInt(String text) {
    try {
      int n = Integer.parseInt(text.trim());
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException("expected a whole number above zero, got '" + text + "'");
  }

  static int nonNegativeInt(String text) {
    try {
      int n = Integer.parseInt(text.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException("expected a whole number, 0 or more, got '" + text + "'");
  }

  static int port(String text) {
    int n = positiveInt(text);
    if (n > 65535) {
      throw new IllegalArgumentException("expected a port 1-65535, got '" + text + "'");
    }
    return n;
  }

  static boolean bool(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw new IllegalArgumentException("expected true or false, got '" + text + "'");
    };
  }

  private static final Pattern IP_LITERAL = Pattern.compile(
      "(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  /** An IPv4 or IPv6 address written as such (never a name: that would need DNS at start). */
  static java.net.InetAddress ipAddress(String text) {
    String s = text.trim();
    if (s.startsWith("[") && s.endsWith("]")) {
      s = s.substring(1, s.length() - 1);
    }
    if (IP_LITERAL.matcher(s).matches()) {
      try {
        return java.net.InetAddress.getByName(s); // a literal: parsed, never looked up
      } catch (java.net.UnknownHostException e) {
        // fall through to the message below
      }
    }
    throw new IllegalArgumentException("expected an IPv4 or IPv6 address like 192.0.2.25 or 2001:db8::25, got '"
        + text + "'");
  }

  static String imapUrl(String text) {
    String url = text.trim();
    if (!url.matches("imaps?://[^/\\s]+(/.*)?")) {
      throw new IllegalArgumentException("expected imap://user:password@host:port/folder or imaps://..., got '"
          + url.replaceFirst("(//[^:/@]*:)[^@/]*@", "$1***@") + "'");
    }
    return url;
  }

  /** {@code delivery.tls-reports.from}: a plain address (local@domain), the domain fully qualified. */
  static String reportAddress(String text) {
    String address = text.trim();
    int at = address.lastIndexOf('@');
    if (at < 1 || !address.substring(0, at).matches("[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")) {
      throw new IllegalArgumentException("expected an address like tls-reports@example.com, got '" + text + "'");
    }
    return address.substring(0, at) + "@" + DomainName.fullyQualified(address.substring(at + 1));
  }

  /** {@code delivery.tls-reports.organization}: one line of printable text (it goes into a JSON string). */
  static String organization(String text) {
    String name = text.trim();
    if (name.isEmpty() || !name.chars().allMatch(c -> c >= 32 && c != 127)) {
      throw new IllegalArgumentException("expected a name on one line, got '" + text + "'");
    }
    return name;
  }

  /** RFC 5322 §2.2: a field name is printable US-ASCII except colon. */
  static String headerName(String text) {
    String name = text.trim();
    if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
      throw new IllegalArgumentException("not a header field name: '" + text + "'");
    }
    return name;
  }

  static <E extends Enum<E>> E choice(String text, Class<E> type) {
    String wanted = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equals(wanted)) {
        return constant;
      }
    }
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    throw new IllegalArgumentException("expected one of " + String.join(", ", names) + ", got '" + text + "'");
  }
}
