package dev.signet.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A parsed MTA-STS policy (RFC 8461 §3.2): the mode, the MX host patterns mail may go to, and how
 * long the policy may be cached. Parsing is strict: a policy that breaks the grammar is no policy
 * (§3.3: "sts-policy-invalid"), not a best guess.
 *
 * @param maxAgeSeconds §3.2: a whole number of seconds, at most 31557600 (one year)
 */
record MtaStsPolicy(Mode mode, List<String> mx, long maxAgeSeconds) {

  enum Mode { ENFORCE, TESTING, NONE }

  /** §3.2 max_age: "up to 31557600". */
  static final long MAX_AGE_LIMIT = 31_557_600L;

  /** A host name (LDH labels) or "*." and one; §3.2 "mx" allows exactly this wildcard form. */
  private static final Pattern MX_PATTERN = Pattern.compile(
      "(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.?");

  /** The policy text does not follow RFC 8461 §3.2. */
  static final class Invalid extends Exception {
    Invalid(String message) {
      super(message);
    }
  }

  MtaStsPolicy {
    mx = List.copyOf(mx);
  }

  /** Parses the body of {@code https://mta-sts.<domain>/.well-known/mta-sts.txt}. */
  static MtaStsPolicy parse(String text) throws Invalid {
    String version = null;
    Mode mode = null;
    Long maxAge = null;
    List<String> mx = new ArrayList<>();
    // §3.2: CRLF-separated "key: value" pairs; LF alone is accepted too (servers commonly send it).
    for (String raw : text.split("\r?\n", -1)) {
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new Invalid("line is not \"key: value\": '" + abbreviate(line) + "'");
      }
      String key = line.substring(0, colon).strip();
      String value = line.substring(colon + 1).strip();
      switch (key) {
        case "version" -> {
          if (version != null) {
            throw new Invalid("version given twice");
          }
          version = value;
        }
        case "mode" -> {
          if (mode != null) {
            throw new Invalid("mode given twice");
          }
          mode = switch (value) {
            case "enforce" -> Mode.ENFORCE;
            case "testing" -> Mode.TESTING;
            case "none" -> Mode.NONE;
            default -> throw new Invalid("mode must be enforce, testing or none, not '" + abbreviate(value) + "'");
          };
        }
        case "max_age" -> {
          if (maxAge != null) {
            throw new Invalid("max_age given twice");
          }
          if (!value.matches("[0-9]{1,10}") || Long.parseLong(value) > MAX_AGE_LIMIT) {
            throw new Invalid("max_age must be 0 to " + MAX_AGE_LIMIT + " seconds, not '" + abbreviate(value) + "'");
          }
          maxAge = Long.parseLong(value);
        }
        case "mx" -> {
          String pattern = value.toLowerCase(Locale.ROOT);
          if (!MX_PATTERN.matcher(pattern).matches()) {
            throw new Invalid("mx is not a host name or *.host name: '" + abbreviate(value) + "'");
          }
          mx.add(pattern.endsWith(".") ? pattern.substring(0, pattern.length() - 1) : pattern);
        }
        default -> {
          // §3.2: fields not defined here are ignored (extensions).
        }
      }
    }
    if (!"STSv1".equals(version)) {
      throw new Invalid(version == null ? "no version field" : "version must be STSv1, not '" + abbreviate(version) + "'");
    }
    if (mode == null) {
      throw new Invalid("no mode field");
    }
    if (maxAge == null) {
      throw new Invalid("no max_age field");
    }
    if (mx.isEmpty() && mode != Mode.NONE) {
      throw new Invalid("no mx field (mode " + mode.name().toLowerCase(Locale.ROOT) + " needs at least one)");
    }
    return new MtaStsPolicy(mode, mx, maxAge);
  }

  /** §4.1: {@code host} matches an mx pattern exactly, or "*.rest" with one label in place of the star. */
  boolean allows(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (String pattern : mx) {
      if (PeerTrust.matchesPattern(pattern, h)) {
        return true;
      }
    }
    return false;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
