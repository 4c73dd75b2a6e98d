package dev.signet.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaping file: the shipped rules, a user file laid over them, and errors that name file, line and key. */
class ShapingFileTest {
  @TempDir Path dir;

  private Shaping load(String yaml) throws Exception {
    Path file = dir.resolve("shaping.yaml");
    Files.writeString(file, yaml);
    return Shaping.load(Optional.of(file), Optional.empty(), new TestClock(Instant.EPOCH), null);
  }

  @Test
  void theShippedFileNamesTheBigProviders() {
    Shaping shaping = Shaping.builtIn(new TestClock(Instant.EPOCH));
    assertTrue(shaping.providers().containsAll(List.of("google", "microsoft", "yahoo", "icloud", "gmx", "orange",
        "comcast", "default")), shaping.providers().toString());
    assertEquals(10, shaping.limits().get("google").connections());
  }

  @Test
  void aUserFileOverridesOneKeyAndKeepsTheRest() throws Exception {
    Shaping shaping = load("providers:\n  google:\n    connections: 3\n    rate: 100/minute\n");
    Limits google = shaping.limits().get("google");
    assertEquals(3, google.connections());
    assertEquals(Optional.of(new Rate(100, Duration.ofMinutes(1))), google.rate());
    assertEquals(100, google.messagesPerConnection(), "kept from the built-in file");
    assertEquals("google", shaping.destination("example.org", List.of("aspmx.l.google.com")).provider(),
        "the built-in mx suffixes still apply");
  }

  @Test
  void anUnknownKeyIsAnErrorNamingFileLineAndKey() throws Exception {
    ShapingException e = assertThrows(ShapingException.class,
        () -> load("providers:\n  google:\n    connections: 3\n    conections: 4\n"));
    assertTrue(e.getMessage().contains("shaping.yaml:4: providers.google.conections: unknown key"), e.getMessage());
  }

  @Test
  void aBadValueIsAnErrorNamingFileLineAndKey() throws Exception {
    ShapingException e = assertThrows(ShapingException.class, () -> load("default:\n  rate: fast\n"));
    assertTrue(e.getMessage().contains("shaping.yaml:2: default.rate: expected a rate like 100/second"), e.getMessage());
    e = assertThrows(ShapingException.class,
        () -> load("backoff:\n  mine:\n    code: \"4[\"\n    action: suspend\n    for: 1m\n"));
    assertTrue(e.getMessage().contains("shaping.yaml:3: backoff.mine.code: not a regular expression"), e.getMessage());
    e = assertThrows(ShapingException.class,
        () -> load("backoff:\n  mine:\n    code: \"^421$\"\n    action: pause\n    for: 1m\n"));
    assertTrue(e.getMessage().contains("shaping.yaml:4: backoff.mine.action: expected suspend"), e.getMessage());
  }

  @Test
  void aNewProviderNeedsItsMxSuffixes() throws Exception {
    ShapingException e = assertThrows(ShapingException.class, () -> load("providers:\n  fastmail:\n    connections: 2\n"));
    assertTrue(e.getMessage().contains("shaping.yaml:2: providers.fastmail.mx"), e.getMessage());
    Shaping shaping = load("providers:\n  fastmail:\n    mx: [.messagingengine.com]\n    connections: 2\n");
    Destination d = shaping.destination("example.net", List.of("in1-smtp.messagingengine.com"));
    assertEquals("fastmail", d.provider());
    assertEquals(2, d.limits().connections());
  }

  @Test
  void aShippedBackoffRuleCanBeSwitchedOff() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));
    Path file = dir.resolve("off.yaml");
    Files.writeString(file, "backoff:\n  google-unsolicited-rate:\n    action: none\n");
    Shaping shaping = Shaping.load(Optional.of(file), Optional.empty(), clock, null);
    Destination google = shaping.destination("gmail.com", List.of("gmail-smtp-in.l.google.com"));
    shaping.observe(google, 421, "4.7.28", "4.7.28 unusual rate of unsolicited mail");
    assertEquals(Optional.empty(), shaping.admit(google));
  }
}
