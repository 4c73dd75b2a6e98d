package dev.signet.shaping;

import dev.signet.config.SignetConfig;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads shaping files (the shipped {@code conf/shaping.yaml}, built into the jar, and the user's
 * {@code delivery.shaping} file laid over it key by key) into {@link Rules}. YAML is read as nodes, so
 * that an unknown key or a bad value is reported with the file and line it stands on.
 */
final class ShapingFile {

  /** The shaping file as a whole, checked. */
  record Rules(Limits defaults, Map<String, Provider> providers, Map<String, Overrides> domains,
      List<Backoff> backoff, int fleetSize) {}

  /** A provider: the MX host name suffixes that identify it, and its limits. */
  record Provider(String name, List<String> mx, Limits limits) {}

  /** A domain's own limits: each present value replaces its provider's (or the default's). */
  record Overrides(Optional<Integer> connections, Optional<Integer> messagesPerConnection,
      Optional<Optional<Rate>> rate, Optional<Integer> recipientsPerTransaction) {
    Limits over(Limits base) {
      return new Limits(connections.orElse(base.connections()),
          messagesPerConnection.orElse(base.messagesPerConnection()), rate.orElse(base.rate()),
          recipientsPerTransaction.orElse(base.recipientsPerTransaction()));
    }
  }

  /** A value read from a file, with where it stands: a String, a List of Items or a Map of Items. */
  private record Item(Object value, String where) {}

  private static final Set<String> TOP = Set.of("fleet-size", "default", "providers", "domains", "backoff");
  private static final Set<String> LIMIT_KEYS =
      Set.of("connections", "messages-per-connection", "rate", "recipients-per-transaction");
  private static final Set<String> BACKOFF_KEYS = Set.of("provider", "code", "enhanced", "text", "action", "for");

  private ShapingFile() {}

  /** Parses {@code files} in order, each overriding the ones before it key by key, and checks the result. */
  static Rules read(List<Source> files) throws ShapingException {
    Map<String, Item> merged = new LinkedHashMap<>();
    for (Source file : files) {
      Map<String, Item> tree = parse(file);
      merge(merged, tree);
    }
    try {
      return build(merged);
    } catch (Bad e) {
      throw new ShapingException(e.getMessage());
    }
  }

  /** A file to read: its name for messages and a way to open it. */
  record Source(String name, Opener opener) {}

  @FunctionalInterface
  interface Opener {
    InputStream open() throws IOException;
  }

  private static Map<String, Item> parse(Source source) throws ShapingException {
    Node root;
    try (InputStream in = source.opener().open()) {
      Optional<Node> node = new Compose(LoadSettings.builder().setLabel(source.name()).build()).composeInputStream(in);
      if (node.isEmpty()) {
        return Map.of();
      }
      root = node.get();
    } catch (IOException e) {
      throw new ShapingException(source.name() + ": cannot read: " + e.getMessage());
    } catch (YamlEngineException e) {
      throw new ShapingException(source.name() + ": not valid YAML: " + e.getMessage());
    }
    Item item = item(source.name(), root);
    if (!(item.value() instanceof Map<?, ?>)) {
      throw new ShapingException(item.where() + ": expected a map of shaping settings at the top level");
    }
    @SuppressWarnings("unchecked")
    Map<String, Item> map = (Map<String, Item>) item.value();
    return map;
  }

  private static Item item(String file, Node node) {
    String where = file + ":" + node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    return switch (node) {
      case ScalarNode s -> new Item(s.getValue(), where);
      case SequenceNode seq -> {
        List<Item> items = new ArrayList<>();
        seq.getValue().forEach(n -> items.add(item(file, n)));
        yield new Item(items, where);
      }
      case MappingNode map -> {
        Map<String, Item> items = new LinkedHashMap<>();
        for (NodeTuple t : map.getValue()) {
          Item key = item(file, t.getKeyNode());
          Item value = item(file, t.getValueNode());
          // The key's line, so an unknown key is reported where it stands.
          items.put(String.valueOf(key.value()), new Item(value.value(), key.where()));
        }
        yield new Item(items, where);
      }
      default -> new Item("", where);
    };
  }

  /** Lays {@code over} onto {@code base}: maps merge key by key (three levels deep), anything else replaces. */
  @SuppressWarnings("unchecked")
  private static void merge(Map<String, Item> base, Map<String, Item> over) {
    for (Map.Entry<String, Item> e : over.entrySet()) {
      Item old = base.get(e.getKey());
      Item now = e.getValue();
      if (old != null && old.value() instanceof Map<?, ?> a && now.value() instanceof Map<?, ?> b) {
        Map<String, Item> combined = new LinkedHashMap<>((Map<String, Item>) a);
        merge(combined, (Map<String, Item>) b);
        base.put(e.getKey(), new Item(combined, now.where()));
      } else {
        base.put(e.getKey(), now);
      }
    }
  }

  /** Unchecked while building, a {@link ShapingException} at the edge. */
  private static final class Bad extends RuntimeException {
    Bad(Item at, String key, String problem) {
      super(at.where() + ": " + key + ": " + problem);
    }
  }

  private static Rules build(Map<String, Item> top) {
    known(top, TOP, "");
    Map<String, Item> defaultsMap = map(top.get("default"), "default");
    known(defaultsMap, LIMIT_KEYS, "default.");
    Limits defaults = overrides(defaultsMap, "default.").over(new Limits(20, 100, Optional.empty(), 100));

    Map<String, Provider> providers = new LinkedHashMap<>();
    for (Map.Entry<String, Item> p : map(top.get("providers"), "providers").entrySet()) {
      String name = p.getKey();
      String prefix = "providers." + name + ".";
      if (!name.matches("[a-z0-9][a-z0-9_-]*") || name.equals(Destination.DEFAULT)) {
        throw new Bad(p.getValue(), "providers." + name,
            "a provider name is lower-case letters, digits, - and _ (and not 'default')");
      }
      Map<String, Item> body = map(p.getValue(), "providers." + name);
      Set<String> keys = new java.util.HashSet<>(LIMIT_KEYS);
      keys.add("mx");
      known(body, keys, prefix);
      Item mxItem = body.get("mx");
      if (mxItem == null) {
        throw new Bad(p.getValue(), prefix + "mx", "a provider needs the MX host name suffixes that identify it");
      }
      List<String> mx = new ArrayList<>();
      for (Item s : list(mxItem, prefix + "mx")) {
        String suffix = scalar(s, prefix + "mx").toLowerCase(Locale.ROOT);
        if (suffix.isEmpty() || suffix.endsWith(".")) {
          throw new Bad(s, prefix + "mx", "expected a host name suffix like .google.com, got '" + suffix + "'");
        }
        mx.add(suffix);
      }
      providers.put(name, new Provider(name, List.copyOf(mx), overrides(body, prefix).over(defaults)));
    }

    Map<String, Overrides> domains = new LinkedHashMap<>();
    for (Map.Entry<String, Item> d : map(top.get("domains"), "domains").entrySet()) {
      String prefix = "domains." + d.getKey() + ".";
      Map<String, Item> body = map(d.getValue(), "domains." + d.getKey());
      known(body, LIMIT_KEYS, prefix);
      domains.put(d.getKey().toLowerCase(Locale.ROOT), overrides(body, prefix));
    }

    List<Backoff> backoff = new ArrayList<>();
    for (Map.Entry<String, Item> b : map(top.get("backoff"), "backoff").entrySet()) {
      String prefix = "backoff." + b.getKey() + ".";
      Map<String, Item> body = map(b.getValue(), "backoff." + b.getKey());
      known(body, BACKOFF_KEYS, prefix);
      Optional<String> provider = optional(body, "provider", prefix, Function.identity());
      if (provider.isPresent() && !providers.containsKey(provider.get())) {
        throw new Bad(body.get("provider"), prefix + "provider", "no such provider: '" + provider.get() + "'");
      }
      Backoff.Action action = required(b.getValue(), body, "action", prefix, Backoff.Action::parse);
      Duration duration = required(b.getValue(), body, "for", prefix, SignetConfig::duration);
      Optional<Pattern> code = optional(body, "code", prefix, ShapingFile::pattern);
      Optional<Pattern> enhanced = optional(body, "enhanced", prefix, ShapingFile::pattern);
      Optional<Pattern> text = optional(body, "text", prefix, ShapingFile::pattern);
      if (code.isEmpty() && enhanced.isEmpty() && text.isEmpty()) {
        throw new Bad(b.getValue(), "backoff." + b.getKey(), "a rule needs at least one of code, enhanced, text");
      }
      backoff.add(new Backoff(b.getKey(), provider, code, enhanced, text, action, duration));
    }

    int fleetSize = top.containsKey("fleet-size") ? value(top.get("fleet-size"), "fleet-size", SignetConfig::positiveInt) : 1;
    return new Rules(defaults, providers, domains, List.copyOf(backoff), fleetSize);
  }

  private static Overrides overrides(Map<String, Item> body, String prefix) {
    return new Overrides(
        optional(body, "connections", prefix, SignetConfig::positiveInt),
        optional(body, "messages-per-connection", prefix, SignetConfig::positiveInt),
        optional(body, "rate", prefix, t -> t.trim().equalsIgnoreCase("unlimited") ? Optional.empty() : Optional.of(Rate.parse(t))),
        optional(body, "recipients-per-transaction", prefix, SignetConfig::positiveInt));
  }

  private static void known(Map<String, Item> body, Set<String> keys, String prefix) {
    for (Map.Entry<String, Item> e : body.entrySet()) {
      if (!keys.contains(e.getKey())) {
        throw new Bad(e.getValue(), prefix + e.getKey(), "unknown key (known here: " + String.join(", ", new java.util.TreeSet<>(keys)) + ")");
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Item> map(Item item, String key) {
    if (item == null || "".equals(item.value())) {
      return Map.of();
    }
    if (!(item.value() instanceof Map<?, ?> m)) {
      throw new Bad(item, key, "expected a map");
    }
    return (Map<String, Item>) m;
  }

  @SuppressWarnings("unchecked")
  private static List<Item> list(Item item, String key) {
    if (item.value() instanceof List<?> l) {
      return (List<Item>) l;
    }
    if (item.value() instanceof String) {
      return List.of(item);
    }
    throw new Bad(item, key, "expected a list");
  }

  private static String scalar(Item item, String key) {
    if (!(item.value() instanceof String s)) {
      throw new Bad(item, key, "expected a single value");
    }
    return s;
  }

  private static <T> T value(Item item, String key, Function<String, T> parser) {
    try {
      return parser.apply(scalar(item, key));
    } catch (IllegalArgumentException e) {
      throw new Bad(item, key, e.getMessage());
    }
  }

  private static <T> Optional<T> optional(Map<String, Item> body, String name, String prefix, Function<String, T> parser) {
    Item item = body.get(name);
    return item == null ? Optional.empty() : Optional.of(value(item, prefix + name, parser));
  }

  private static <T> T required(Item parent, Map<String, Item> body, String name, String prefix, Function<String, T> parser) {
    return optional(body, name, prefix, parser).orElseThrow(() -> new Bad(parent, prefix + name, "a value is required"));
  }

  private static Pattern pattern(String text) {
    try {
      return Pattern.compile(text, Pattern.CASE_INSENSITIVE);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("not a regular expression: " + e.getDescription() + " in '" + text + "'");
    }
  }
}
