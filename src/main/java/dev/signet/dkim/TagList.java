package dev.signet.dkim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A DKIM tag-list (RFC 6376 §3.2): {@code tag=value} pairs separated by semicolons, as in a
 * DKIM-Signature field and a key record in DNS. The one parser of them in Signet.
 */
public final class TagList {
  private TagList() {}

  /**
   * The tags of {@code text} in order. Names as written, around them whitespace removed (§3.2: tag
   * names are case-sensitive); values with all whitespace removed, which unfolds FWS (§3.2 lets it
   * stand inside the base64 of b=, bh= and p=). A part without {@code =} is skipped; of a tag given
   * twice (an invalid list) the first counts.
   */
  public static Map<String, String> parse(String text) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (String part : text.split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        tags.putIfAbsent(part.substring(0, eq).strip(), part.substring(eq + 1).replaceAll("\\s+", ""));
      }
    }
    return Collections.unmodifiableMap(tags);
  }

  /** The value of tag {@code name} in {@code text}, as {@link #parse} gives it. */
  public static Optional<String> value(String text, String name) {
    return Optional.ofNullable(parse(text).get(name));
  }
}
