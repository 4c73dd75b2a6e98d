package dev.signet.events;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One state change of one message-recipient, as applications receive it (webhooks, the event log):
 * a JSON object with the fields of docs/ARCHITECTURE.md "Events". Fields that do not apply are null
 * (an {@code accepted} event has no reply; a refusal at RCPT has no queue id).
 *
 * @param id unique, for the receiver's deduplication (delivery is at least once)
 * @param queueId the message's queue id; null when it was refused before it had one
 * @param messageId the Message-ID field of the message, with its angle brackets; null if unknown
 * @param sender the MAIL FROM address ("" = null sender)
 * @param attempt delivery attempts so far for this recipient (0 before the first)
 * @param status the RFC 3463 enhanced status code
 * @param reply the remote server's reply, or the reason a decision was taken here
 * @param mx the host that replied; null for decisions taken here
 * @param bounceClass for failures and deferrals; null otherwise
 * @param tls the TLS policy and protocol of the delivery ("opportunistic TLSv1.3"); null when unknown
 */
public record Event(
    String id,
    Type type,
    Instant time,
    String queueId,
    String messageId,
    String sender,
    String recipient,
    int attempt,
    String status,
    String reply,
    String mx,
    BounceClass bounceClass,
    String tls) {

  /** The event types; their names are the {@code type} field. */
  public enum Type {
    ACCEPTED, DELIVERED, DEFERRED, BOUNCED, EXPIRED, SUPPRESSED, DSN_SENT, TLS_FAILED;

    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Type of(String label) {
      for (Type t : values()) {
        if (t.label().equals(label)) {
          return t;
        }
      }
      throw new IllegalArgumentException("not an event type: '" + label + "'");
    }
  }

  public Event {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(recipient, "recipient");
  }

  /** A new event (fresh id) about {@code recipient} of a message, without a delivery result. */
  public static Event of(Type type, Instant time, String queueId, String messageId, String sender,
      String recipient, int attempt) {
    return new Event(Ids.next(), type, time, queueId, messageId, sender, recipient, attempt,
        null, null, null, null, null);
  }

  /**
   * Random (version 4) UUIDs as {@link UUID#randomUUID} makes them, from the same kind of source, but with
   * its bytes drawn 4 KB at a time: the JDK's SecureRandom mixes SHA-1 into each call, two or more calls per
   * message, and a restarted relay compiled that code during its first thousands of messages
   * (docs/ARCHITECTURE.md "Start-up"). Shared by the relays of one JVM, as the JDK's own generator is.
   */
  private static final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] POOL = new byte[4096];
    private static int used = POOL.length;

    static String next() {
      long high;
      long low;
      synchronized (POOL) {
        if (used == POOL.length) {
          RANDOM.nextBytes(POOL);
          used = 0;
        }
        high = longAt(used);
        low = longAt(used + 8);
        used += 16;
      }
      high = high & ~0xf000L | 0x4000L; // RFC 9562 §5.4: version 4
      low = low & ~(3L << 62) | 1L << 63; // and the variant 10
      return new UUID(high, low).toString();
    }

    private static long longAt(int at) {
      long value = 0;
      for (int i = at; i < at + 8; i++) {
        value = value << 8 | POOL[i] & 0xff;
      }
      return value;
    }
  }

  /** This event with the result of a delivery attempt (or of a decision taken here). */
  public Event withResult(String status, String reply, String mx, BounceClass bounceClass) {
    return new Event(id, type, time, queueId, messageId, sender, recipient, attempt, status, reply, mx,
        bounceClass, tls);
  }

  /** This event with the TLS used ({@code tls} field); set by the delivery-security code where it knows. */
  public Event withTls(String tls) {
    return new Event(id, type, time, queueId, messageId, sender, recipient, attempt, status, reply, mx,
        bounceClass, tls);
  }

  /**
   * The {@code queue_id} of an event's JSON as {@link #toJson} wrote it (the fields before it, id,
   * type and time, never hold its name); empty if it is null.
   */
  public static Optional<String> queueId(String json) {
    String name = "\"queue_id\":\"";
    int at = json.indexOf(name);
    if (at < 0) {
      return Optional.empty();
    }
    int from = at + name.length();
    int to = json.indexOf('"', from);
    return to < 0 ? Optional.empty() : Optional.of(json.substring(from, to));
  }

  /** The JSON object, one line (RFC 8259); {@code time} is RFC 3339 in UTC. */
  public String toJson() {
    // The fields in a loop, not one call each: each call was a copy of the escaping loop in the compiled code,
    // whose size a restarted relay paid for in compile time (docs/ARCHITECTURE.md "Start-up").
    String[] before = {id, type.label(), Rfc3339.format(time), queueId, messageId, sender, recipient};
    String[] after = {status, reply, mx, bounceClass == null ? null : bounceClass.label(), tls};
    StringBuilder out = new StringBuilder(256).append('{');
    for (int i = 0; i < before.length; i++) {
      field(out, FIELDS_BEFORE[i], before[i]).append(',');
    }
    out.append("\"attempt\":").append(attempt);
    for (int i = 0; i < after.length; i++) {
      field(out.append(','), FIELDS_AFTER[i], after[i]);
    }
    return out.append('}').toString();
  }

  private static final String[] FIELDS_BEFORE =
      {"id", "type", "time", "queue_id", "message_id", "sender", "recipient"};
  private static final String[] FIELDS_AFTER = {"status", "reply", "mx", "class", "tls"};

  private static StringBuilder field(StringBuilder out, String name, String value) {
    out.append('"').append(name).append("\":");
    if (value == null) {
      return out.append("null");
    }
    return string(out, value);
  }

  /** RFC 8259 §7: quote, backslash and control characters escaped; the rest as is (UTF-8 on the wire). */
  static StringBuilder string(StringBuilder out, String value) {
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c) && !validSurrogate(value, i)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"');
  }

  private static boolean validSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }
}
