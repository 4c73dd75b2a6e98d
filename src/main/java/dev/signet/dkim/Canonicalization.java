package dev.signet.dkim;

import java.util.Locale;

/** Header and body canonicalization, RFC 6376 §3.4 ({@code c=header/body}). */
public record Canonicalization(Canon header, Canon body) {
  public enum Canon { SIMPLE, RELAXED }

  public static Canonicalization parse(String text) {
    String[] parts = text.trim().toLowerCase(Locale.ROOT).split("/", -1);
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
    return header.name().toLowerCase(Locale.ROOT) + "/" + body.name().toLowerCase(Locale.ROOT);
  }
}
