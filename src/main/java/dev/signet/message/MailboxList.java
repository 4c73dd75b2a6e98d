package dev.signet.message;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A From or Sender field value parsed strictly as RFC 5322 §3.4 {@code mailbox-list} (or
 * {@code mailbox}): display names, quoted strings, comments, angle brackets, and the obsolete forms
 * of §4.4 (routes, CFWS around dots, empty list elements) are understood; groups, two addresses
 * without a comma between them, and characters outside the grammar are refused. Values that
 * parsers read differently are the raw material of display spoofing, so nothing is guessed.
 *
 * <p>Written by hand rather than with {@code jakarta.mail.internet.InternetAddress}: that parser
 * accepts groups in From, and accepts or refuses UTF-8 depending on the system property
 * {@code mail.mime.allowutf8}.
 */
final class MailboxList {
  /** One mailbox: its addr-spec's domain, lowercased (U-labels kept as written, RFC 6532). */
  record Mailbox(String localPart, String domain) {}

  private MailboxList() {}

  /** Thrown for a value that is not a mailbox-list; the message says what was found where. */
  static final class Invalid extends Exception {
    Invalid(String reason) {
      super(reason, null, false, false);
    }
  }

  private enum Kind { ATOM, QUOTED, LITERAL, SPECIAL }

  private record Token(Kind kind, String text) {
    boolean is(char special) {
      return kind == Kind.SPECIAL && text.charAt(0) == special;
    }

    boolean word() {
      return kind == Kind.ATOM || kind == Kind.QUOTED;
    }
  }

  /** The mailboxes of {@code value}, at least one. */
  static List<Mailbox> parse(String value) throws Invalid {
    List<Token> tokens = tokenize(value);
    List<Mailbox> mailboxes = new ArrayList<>();
    int i = 0;
    while (i < tokens.size()) {
      if (tokens.get(i).is(',')) {
        i++; // RFC 5322 §4.4 obs-mbox-list: empty elements between commas
        continue;
      }
      int end = i;
      int depth = 0;
      while (end < tokens.size() && (depth > 0 || !tokens.get(end).is(','))) {
        if (tokens.get(end).is('<')) {
          depth++;
        } else if (tokens.get(end).is('>')) {
          depth--;
        }
        end++;
      }
      mailboxes.add(mailbox(tokens.subList(i, end)));
      i = end;
    }
    if (mailboxes.isEmpty()) {
      throw new Invalid("no mailbox");
    }
    return mailboxes;
  }

  /** RFC 5322 §3.4: mailbox = name-addr / addr-spec; name-addr = [display-name] angle-addr. */
  private static Mailbox mailbox(List<Token> t) throws Invalid {
    int open = -1;
    for (int i = 0; i < t.size(); i++) {
      if (t.get(i).is('<')) {
        open = i;
        break;
      }
      if (t.get(i).is(':') || t.get(i).is(';')) {
        throw new Invalid("a group (\"name: ...;\") is not allowed here, only mailboxes (RFC 5322 section 3.6.2)");
      }
    }
    if (open < 0) {
      return addrSpec(t);
    }
    // display-name = phrase = 1*word, with obs-phrase's "." allowed after the first word (§4.1)
    for (int i = 0; i < open; i++) {
      Token token = t.get(i);
      if (!token.word() && !(i > 0 && token.is('.'))) {
        throw new Invalid("unexpected '" + token.text() + "' in display name");
      }
    }
    int close = -1;
    for (int i = open + 1; i < t.size(); i++) {
      if (t.get(i).is('>')) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      throw new Invalid("'<' without '>'");
    }
    if (close != t.size() - 1) {
      throw new Invalid("text after '>': '" + t.get(close + 1).text() + "' (mailboxes are separated by commas)");
    }
    List<Token> inner = t.subList(open + 1, close);
    // RFC 5322 §4.4 obs-angle-addr: "<@a.example,@b.example:user@c.example>"
    if (!inner.isEmpty() && inner.get(0).is('@')) {
      int colon = -1;
      for (int i = 0; i < inner.size(); i++) {
        if (inner.get(i).is(':')) {
          colon = i;
          break;
        }
      }
      if (colon < 0) {
        throw new Invalid("route without ':' in angle brackets");
      }
      inner = inner.subList(colon + 1, inner.size());
    }
    return addrSpec(inner);
  }

  /** RFC 5322 §3.4.1 addr-spec = local-part "@" domain, with §4.4's obs-local-part and obs-domain. */
  private static Mailbox addrSpec(List<Token> t) throws Invalid {
    if (t.isEmpty()) {
      throw new Invalid("empty address");
    }
    int at = -1;
    for (int i = 0; i < t.size(); i++) {
      if (t.get(i).is('@')) {
        if (at >= 0) {
          throw new Invalid("more than one '@' in an address");
        }
        at = i;
      }
    }
    if (at < 0) {
      throw new Invalid("no '@' in address '" + joined(t) + "'");
    }
    List<Token> local = t.subList(0, at);
    List<Token> domain = t.subList(at + 1, t.size());
    if (!dotted(local, true)) {
      throw new Invalid("bad local part '" + joined(local) + "'");
    }
    if (domain.size() == 1 && domain.get(0).kind() == Kind.LITERAL) {
      return new Mailbox(joined(local), domain.get(0).text().toLowerCase(Locale.ROOT));
    }
    if (!dotted(domain, false)) {
      throw new Invalid("bad domain '" + joined(domain) + "'");
    }
    return new Mailbox(joined(local), joined(domain).toLowerCase(Locale.ROOT));
  }

  /** word *("." word); a domain takes atoms only. */
  private static boolean dotted(List<Token> t, boolean quotedAllowed) {
    if (t.isEmpty() || t.size() % 2 == 0) {
      return false;
    }
    for (int i = 0; i < t.size(); i++) {
      Token token = t.get(i);
      boolean ok = i % 2 == 1 ? token.is('.') : token.kind() == Kind.ATOM || quotedAllowed && token.word();
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static String joined(List<Token> t) {
    StringBuilder s = new StringBuilder();
    for (Token token : t) {
      s.append(token.text());
    }
    return s.toString();
  }

  /**
   * Splits into atoms, quoted strings (kept with quotes), domain literals and specials; white space
   * and comments (RFC 5322 §3.2.2, nested, with quoted-pairs) separate tokens and are dropped.
   */
  private static List<Token> tokenize(String s) throws Invalid {
    List<Token> tokens = new ArrayList<>();
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        i++;
      } else if (c == '(') {
        int depth = 0;
        do {
          char d = s.charAt(i);
          if (d == '\\') {
            i++;
          } else if (d == '(') {
            depth++;
          } else if (d == ')') {
            depth--;
          }
          i++;
        } while (depth > 0 && i < n);
        if (depth > 0) {
          throw new Invalid("unbalanced '(' in comment");
        }
      } else if (c == '"') {
        int start = i++;
        while (i < n && s.charAt(i) != '"') {
          i += s.charAt(i) == '\\' ? 2 : 1;
        }
        if (i >= n) {
          throw new Invalid("unterminated quoted string");
        }
        tokens.add(new Token(Kind.QUOTED, s.substring(start, ++i)));
      } else if (c == '[') {
        int close = s.indexOf(']', i);
        if (close < 0 || s.substring(i + 1, close).chars().anyMatch(x -> x == '[' || x == '\\')) {
          throw new Invalid("bad domain literal");
        }
        tokens.add(new Token(Kind.LITERAL, s.substring(i, close + 1)));
        i = close + 1;
      } else if ("<>@,:;.".indexOf(c) >= 0) {
        tokens.add(new Token(Kind.SPECIAL, String.valueOf(c)));
        i++;
      } else if (atext(c)) {
        int start = i;
        while (i < n && atext(s.charAt(i))) {
          i++;
        }
        tokens.add(new Token(Kind.ATOM, s.substring(start, i)));
      } else {
        throw new Invalid("character '" + (c < 32 || c == 127 ? String.format("\\x%02x", (int) c) : String.valueOf(c))
            + "' outside a quoted string");
      }
    }
    return tokens;
  }

  /** RFC 5322 §3.2.3 atext, plus any non-ASCII character (RFC 6532 §3.2 UTF8-non-ascii). */
  private static boolean atext(char c) {
    return c > 127 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
  }
}
