package dev.signet.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The JDK's {@link Instant#toString} and {@link Instant#parse} are the specification. */
class Rfc3339Test {

  @Test
  void writesWhatInstantToStringWrites() {
    Random random = new Random(3339);
    for (int i = 0; i < 200_000; i++) {
      long second = random.nextLong(-62_000_000_000L, 300_000_000_000L); // year 0005 to about 11400
      int nano = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1000_000;
        case 2 -> random.nextInt(1000_000) * 1000;
        default -> random.nextInt(1000_000_000);
      };
      Instant t = Instant.ofEpochSecond(second, nano);
      assertEquals(t.toString(), Rfc3339.format(t));
      assertEquals(t, Rfc3339.parse(Rfc3339.format(t)));
    }
    assertEquals("1970-01-01T00:00:00Z", Rfc3339.format(Instant.EPOCH));
    assertEquals("9999-12-31T23:59:59.999999999Z", Rfc3339.format(Instant.parse("9999-12-31T23:59:59.999999999Z")));
  }

  @Test
  void readsWhatInstantParseReadsAndRefusesWhatItRefuses() {
    int refused = 0;
    for (String text : List.of("2026-12-07T11:05:03Z", "2026-12-07T11:05:03.1Z", "2026-12-07T11:05:03.12345Z",
        "2026-12-07T11:05:03.123456789Z", "2026-12-07t11:05:03z", "2026-12-07T11:05:03+01:00",
        "1969-12-31T23:59:59.5Z", "+10000-01-01T00:00:00Z", "2026-06-30T23:59:60Z", "2024-02-29T00:00:00Z",
        "2026-12-07T11:05:03.Z", "2026-12-07T24:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-12-07T11:60:00Z", "2026-13-07T11:05:03Z", "2026-12-07T11:05:03.1234567890Z", "2026-12-07T11:05:0xZ",
        "2026-12-07 11:05:03Z", "not a time", "", "2026-12-07T11:05:03", "2026-12-07T11:05:03.-1Z")) {
      Instant jdk;
      try {
        jdk = Instant.parse(text);
      } catch (DateTimeParseException e) {
        assertThrows(DateTimeParseException.class, () -> Rfc3339.parse(text), text);
        refused++;
        continue;
      }
      assertEquals(jdk, Rfc3339.parse(text), text);
    }
    assertEquals(11, refused); // the list holds both kinds
  }
}
