package dev.signet.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SuppressionsTest {
  @TempDir Path dir;
  private final Instant t0 = Instant.parse("2026-12-06T10:00:00Z");

  @Test
  void aSuppressionSurvivesAReopenAndEndsAfterItsTtl() throws Exception {
    try (Suppressions list = Suppressions.open(dir, Clock.fixed(t0, ZoneOffset.UTC))) {
      list.add("Gone@Dest.test", Duration.ofDays(30), "invalid-recipient");
      assertTrue(list.find("gone@dest.test").isPresent(), "lookups ignore case");
    }
    try (Suppressions list = Suppressions.open(dir, Clock.fixed(t0.plus(Duration.ofDays(29)), ZoneOffset.UTC))) {
      Suppressions.Entry e = list.find("GONE@dest.test").orElseThrow();
      assertEquals(t0, e.since());
      assertEquals("invalid-recipient", e.reason());
    }
    try (Suppressions list = Suppressions.open(dir, Clock.fixed(t0.plus(Duration.ofDays(31)), ZoneOffset.UTC))) {
      assertFalse(list.find("gone@dest.test").isPresent());
      assertEquals(0, list.size());
    }
  }

  @Test
  void aRemovalIsDurableAndATornLineIsIgnored() throws Exception {
    Clock clock = Clock.fixed(t0, ZoneOffset.UTC);
    try (Suppressions list = Suppressions.open(dir, clock)) {
      list.add("a@x.test", Duration.ofDays(1), "manual");
      list.add("b@x.test", Duration.ofDays(1), "manual");
      assertTrue(list.remove("a@x.test"));
      assertFalse(list.remove("a@x.test"));
    }
    Files.write(dir.resolve("list"), "+ c@x.test 17".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    try (Suppressions list = Suppressions.open(dir, clock)) {
      assertEquals(1, list.size());
      assertTrue(list.find("b@x.test").isPresent());
      list.add("d@x.test", Duration.ofDays(1), "manual"); // after the rewrite, appends land on a whole line
    }
    assertEquals(2, Suppressions.read(dir, clock).size());
  }
}
