package dev.signet.config;

import dev.signet.config.ConfigReader.ConfigError;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.util.Optional;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The {@code events.*}, {@code suppression.*} and {@code admin.*} keys. {@code events.webhooks} is the one setting
 * that is a list of maps; from the environment ({@code SIGNET_EVENTS_WEBHOOKS}) it is the same list in
 * YAML flow style: {@code [{url: https://app.example/hook, secret: s3cret, types: [bounced]}]}.
 */
final class FeedbackSettings {
  /** The event types of docs/ARCHITECTURE.md "Events" (checked against the events package by a test). */
  static final Set<String> EVENT_TYPES = Set.of(
      "accepted", "delivered", "deferred", "bounced", "expired", "suppressed", "dsn-sent", "tls-failed");
  /** The bounce classes (checked against the events package by a test). */
  static final Set<String> BOUNCE_CLASSES = Set.of(
      "invalid-recipient", "mailbox-full", "spam-related", "policy", "rate-limited", "message-too-large",
      "dns-failure", "tls-failure", "connection-failure", "expired", "other");

  private FeedbackSettings() {}

  static SignetConfig.Feedback read(ConfigReader.Builder b) {
    SignetConfig.Events events = new SignetConfig.Events(
        webhooks(b.raw("events.webhooks")),
        b.required("events.max-age", ConfigReader::duration),
        b.optional("events.bounce-rules", Path::of));
    SignetConfig.Suppression suppression = new SignetConfig.Suppression(
        b.required("suppression.ttl", ConfigReader::duration),
        b.required("suppression.action", v -> ConfigReader.choice(v, SignetConfig.SuppressionAction.class)),
        b.list("suppression.classes", v -> oneOf(v, BOUNCE_CLASSES, "bounce class")));
    return new SignetConfig.Feedback(events, suppression);
  }

  /** {@code admin.*}: a listener off loopback needs a token (else anyone who reaches it runs the queue). */
  static SignetConfig.Admin admin(ConfigReader.Builder b) {
    HostPort listen = b.required("admin.listen", HostPort::parse);
    Optional<String> token = b.optional("admin.token", String::strip);
    Optional<Path> file = b.optional("admin.token-file", Path::of);
    if (token.isPresent() && file.isPresent()) {
      throw new ConfigError("admin.token-file", "give admin.token or admin.token-file, not both");
    }
    if (file.isPresent()) {
      try {
        token = Files.readAllLines(file.get()).stream().map(String::strip).filter(l -> !l.isEmpty()).findFirst();
      } catch (IOException e) {
        throw new ConfigError("admin.token-file", file.get() + ": cannot read: " + e.getMessage());
      }
      if (token.isEmpty()) {
        throw new ConfigError("admin.token-file", file.get() + " holds no token");
      }
    }
    if (token.isPresent() && token.get().length() < 16) {
      throw new ConfigError(file.isPresent() ? "admin.token-file" : "admin.token",
          "expected a token of at least 16 characters (e.g. openssl rand -hex 32)");
    }
    if (token.isEmpty() && !loopback(listen.host())) {
      throw new ConfigError("admin.listen", listen + " is not a loopback address: set admin.token or admin.token-file "
          + "so that the API is not open to anyone who can reach it");
    }
    return new SignetConfig.Admin(listen, token);
  }

  private static boolean loopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static List<SignetConfig.Webhook> webhooks(Object raw) {
    String key = "events.webhooks";
    if (raw instanceof String text) {
      try {
        raw = text.isBlank() ? List.of() : new Load(LoadSettings.builder().setLabel(key).build()).loadFromString(text);
      } catch (YamlEngineException e) {
        throw new ConfigError(key, "expected a YAML list like [{url: ..., secret: ...}]: " + e.getMessage());
      }
    }
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof List<?> list)) {
      throw new ConfigError(key, "expected a list of {url, secret, types}");
    }
    List<SignetConfig.Webhook> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String at = key + "[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> map)) {
        throw new ConfigError(at, "expected a map with url, secret and optionally types");
      }
      for (Object k : map.keySet()) {
        if (!Set.of("url", "secret", "types").contains(String.valueOf(k))) {
          throw new ConfigError(at + "." + k, "unknown setting (a webhook has url, secret, types)");
        }
      }
      out.add(new SignetConfig.Webhook(url(at + ".url", map.get("url")), secret(at + ".secret", map.get("secret")),
          types(at + ".types", map.get("types"))));
    }
    return List.copyOf(out);
  }

  private static URI url(String key, Object value) {
    if (value == null) {
      throw new ConfigError(key, "a value is required");
    }
    try {
      URI uri = new URI(value.toString());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
        throw new ConfigError(key, "expected an http:// or https:// URL, got '" + value + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new ConfigError(key, "not a URL: " + e.getMessage());
    }
  }

  private static String secret(String key, Object value) {
    // The receiver checks the HMAC with it; an empty or guessable secret makes the signature worthless.
    if (value == null || value.toString().length() < 16) {
      throw new ConfigError(key, "expected a secret of at least 16 characters (e.g. openssl rand -hex 32)");
    }
    return value.toString();
  }

  private static List<String> types(String key, Object value) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw new ConfigError(key, "expected a list of event types, e.g. [delivered, bounced]");
    }
    List<String> out = new ArrayList<>();
    for (Object t : list) {
      try {
        out.add(oneOf(String.valueOf(t), EVENT_TYPES, "event type"));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(key, e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  private static String oneOf(String value, Set<String> allowed, String what) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (!allowed.contains(v)) {
      throw new IllegalArgumentException("not " + (what.startsWith("e") ? "an " : "a ") + what + ": '" + value + "' (expected one of "
          + String.join(", ", allowed.stream().sorted().toList()) + ")");
    }
    return v;
  }
}
