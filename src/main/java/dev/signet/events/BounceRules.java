package dev.signet.events;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Classifies a failure (docs/ARCHITECTURE.md "Events"): the first rule whose enhanced-code
 * patterns and text expression match gives the {@link BounceClass}; none = {@code other}. The rules
 * are a YAML file (the shipped {@code bounce-rules.yaml}, or {@code events.bounce-rules}), so an
 * operator can fix a provider's odd wording without a new release.
 */
public final class BounceRules {
  private static final String SHIPPED = "bounce-rules.yaml";

  /** {@code status}: parts of an enhanced code, "x" for class 4 or 5; {@code text}: searched for. */
  private record Rule(BounceClass result, List<String[]> statuses, Optional<Pattern> text) {
    boolean matches(String status, String reply) {
      return (statuses.isEmpty() || statuses.stream().anyMatch(p -> codeMatches(p, status)))
          && (text.isEmpty() || text.get().matcher(reply).find());
    }
  }

  private final List<Rule> rules;

  private BounceRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** The rules shipped with Signet (conf/bounce-rules.yaml is a copy of them). */
  public static BounceRules shipped() {
    try (InputStream in = BounceRules.class.getResourceAsStream(SHIPPED)) {
      if (in == null) {
        throw new IllegalStateException("the shipped " + SHIPPED + " is missing from the jar");
      }
      return parse(in, SHIPPED);
    } catch (IOException e) {
      throw new IllegalStateException("the shipped " + SHIPPED + " is invalid: " + e.getMessage(), e);
    }
  }

  /**
   * The rules in {@code file}, or the shipped ones when empty.
   *
   * @throws IOException naming the file and the rule at fault
   */
  public static BounceRules load(Optional<Path> file) throws IOException {
    if (file.isEmpty()) {
      return shipped();
    }
    try (InputStream in = Files.newInputStream(file.get())) {
      return parse(in, file.get().toString());
    } catch (NoSuchFileException e) {
      throw new IOException("events.bounce-rules: " + file.get() + ": no such file");
    }
  }

  static BounceRules parse(InputStream in, String source) throws IOException {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromInputStream(in);
    } catch (YamlEngineException e) {
      throw new IOException(source + ": not valid YAML: " + e.getMessage());
    }
    if (!(root instanceof Map<?, ?> top) || !(top.get("rules") instanceof List<?> list) || top.size() != 1) {
      throw new IOException(source + ": expected a map with one key, rules: a list of {class, status, text}");
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String at = source + ": rules[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> rule)) {
        throw new IOException(at + ": expected a map with class, status and/or text");
      }
      for (Object key : rule.keySet()) {
        if (!Set.of("class", "status", "text").contains(String.valueOf(key))) {
          throw new IOException(at + ": unknown key '" + key + "' (a rule has class, status, text)");
        }
      }
      try {
        rules.add(rule(rule));
      } catch (IllegalArgumentException e) {
        throw new IOException(at + ": " + e.getMessage());
      }
    }
    return new BounceRules(rules);
  }

  private static Rule rule(Map<?, ?> rule) {
    if (rule.get("class") == null) {
      throw new IllegalArgumentException("class is required");
    }
    BounceClass result = BounceClass.of(rule.get("class").toString());
    List<String[]> statuses = new ArrayList<>();
    Object status = rule.get("status");
    for (Object s : status instanceof List<?> l ? l : status == null ? List.of() : List.of(status)) {
      statuses.add(codePattern(String.valueOf(s)));
    }
    Optional<Pattern> text = Optional.empty();
    if (rule.get("text") != null) {
      try {
        text = Optional.of(Pattern.compile(rule.get("text").toString(),
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("text is not a valid regular expression: " + e.getDescription());
      }
    }
    if (statuses.isEmpty() && text.isEmpty()) {
      throw new IllegalArgumentException("a rule needs status, text or both (else it matches everything)");
    }
    return new Rule(result, statuses, text);
  }

  /** "5.1.1", "5.7", "x.2.2": RFC 3463 §2 class.subject.detail, a prefix of it on a dot. */
  private static String[] codePattern(String text) {
    String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("\\.", -1);
    boolean ok = parts.length >= 1 && parts.length <= 3 && parts[0].matches("[245x]");
    for (int i = 1; i < parts.length; i++) {
      ok &= parts[i].matches("\\d{1,3}");
    }
    if (!ok) {
      throw new IllegalArgumentException("status '" + text + "' is not an enhanced code or prefix like 5.1.1, 5.7, x.2.2");
    }
    return parts;
  }

  private static boolean codeMatches(String[] pattern, String status) {
    String[] parts = status.split("\\.", -1);
    if (parts.length != 3) {
      return false;
    }
    for (int i = 0; i < pattern.length; i++) {
      boolean any = i == 0 && pattern[0].equals("x") && (parts[0].equals("4") || parts[0].equals("5"));
      if (!any && !stripZeros(pattern[i]).equals(stripZeros(parts[i]))) {
        return false;
      }
    }
    return true;
  }

  private static String stripZeros(String n) {
    String s = n.replaceFirst("^0+(?=\\d)", "");
    return s;
  }

  /**
   * The class of a failure with enhanced code {@code status} (e.g. "5.1.1"; "5.0.0" when the server
   * gave none) and reply {@code text}.
   */
  public BounceClass classify(String status, String text) {
    for (Rule rule : rules) {
      if (rule.matches(status, text)) {
        return rule.result();
      }
    }
    return BounceClass.OTHER;
  }
}
