package dev.signet.events;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;

/**
 * Instants as RFC 3339 text in UTC ({@code 2026-12-07T11:05:03.120Z}), as the events' {@code time} field and
 * the spool's envelopes write them: the same text as {@link Instant#toString} and
 * {@link DateTimeFormatter#ISO_INSTANT}, written and read here without the JDK's general formatter. Every
 * message goes through both several times; the formatter's code is large, and a restarted relay compiled it
 * during its first thousands of messages (docs/ARCHITECTURE.md "Start-up"). Years outside 1970-9999, and any
 * text not in the form written here, go to the JDK.
 */
public final class Rfc3339 {
  /** 9999-12-31T23:59:59Z plus one second. */
  private static final long END = 253402300800L;

  private Rfc3339() {}

  /** {@code time} as {@link Instant#toString} writes it: fractions in groups of three digits, as needed. */
  public static String format(Instant time) {
    long seconds = time.getEpochSecond();
    if (seconds < 0 || seconds >= END) {
      return DateTimeFormatter.ISO_INSTANT.format(time);
    }
    LocalDate date = LocalDate.ofEpochDay(seconds / 86400);
    int ofDay = (int) (seconds % 86400);
    int nano = time.getNano();
    int digits = nano == 0 ? 0 : nano % 1000_000 != 0 ? (nano % 1000 != 0 ? 9 : 6) : 3;
    char[] out = new char[20 + (digits == 0 ? 0 : digits + 1)];
    put(out, 0, date.getYear(), 4);
    out[4] = '-';
    put(out, 5, date.getMonthValue(), 2);
    out[7] = '-';
    put(out, 8, date.getDayOfMonth(), 2);
    out[10] = 'T';
    put(out, 11, ofDay / 3600, 2);
    out[13] = ':';
    put(out, 14, ofDay / 60 % 60, 2);
    out[16] = ':';
    put(out, 17, ofDay % 60, 2);
    int at = 19;
    if (digits > 0) {
      out[at++] = '.';
      put(out, at, nano / POWERS[9 - digits], digits);
      at += digits;
    }
    out[at] = 'Z';
    return new String(out);
  }

  /**
   * The instant of {@code text}: {@code yyyy-MM-ddTHH:mm:ss[.f]Z}, 1 to 9 fraction digits, is read here,
   * anything else by {@link Instant#parse}, which also gives the error for text that is no instant.
   *
   * @throws java.time.format.DateTimeParseException when {@code text} is not an instant
   */
  public static Instant parse(CharSequence text) {
    int length = text.length();
    if (length < 20 || length > 30 || text.charAt(length - 1) != 'Z' || text.charAt(4) != '-'
        || text.charAt(7) != '-' || text.charAt(10) != 'T' || text.charAt(13) != ':' || text.charAt(16) != ':') {
      return Instant.parse(text);
    }
    int year = number(text, 0, 4);
    int month = number(text, 5, 2);
    int day = number(text, 8, 2);
    int hour = number(text, 11, 2);
    int minute = number(text, 14, 2);
    int second = number(text, 17, 2);
    int nano = 0;
    if (length > 20) {
      int digits = length - 21;
      int fraction = text.charAt(19) == '.' && digits >= 1 ? number(text, 20, digits) : -1;
      nano = fraction < 0 ? -1 : fraction * POWERS[9 - digits];
    }
    if (year < 1970 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
        || second > 59 || nano < 0) {
      return Instant.parse(text); // a leap second, a year before 1970, or no instant at all
    }
    try {
      long days = LocalDate.of(year, month, day).toEpochDay();
      return Instant.ofEpochSecond(days * 86400 + hour * 3600 + minute * 60 + second, nano);
    } catch (DateTimeException e) {
      return Instant.parse(text); // no such date: the JDK's own error
    }
  }

  private static final int[] POWERS =
      {1, 10, 100, 1000, 10_000, 100_000, 1000_000, 10_000_000, 100_000_000, 1000_000_000};

  private static void put(char[] out, int at, int value, int digits) {
    for (int i = at + digits - 1; i >= at; i--) {
      out[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** The decimal number of {@code digits} characters at {@code at}; -1 if one is not an ASCII digit. */
  private static int number(CharSequence text, int at, int digits) {
    int value = 0;
    for (int i = at; i < at + digits; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
