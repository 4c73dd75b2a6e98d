package dev.signet.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.TestClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances' shaping sharing one real redis-server: one rate, one connection count, one
 * suspension; and when Redis goes away, each instance goes on with its share.
 */
class RedisBudgetTest {
  @TempDir Path dir;
  private RedisServer redis;
  private final TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));
  private final List<Shaping> instances = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start(dir);
  }

  @AfterEach
  void stop() throws Exception {
    instances.forEach(Shaping::close);
    redis.close();
  }

  private Shaping instance(String yaml) throws Exception {
    Path file = dir.resolve("shaping.yaml");
    Files.writeString(file, yaml);
    Shaping s = Shaping.load(Optional.of(file), Optional.of(redis.uri()), clock, null);
    instances.add(s);
    return s;
  }

  private static Destination google(Shaping s, String domain) {
    return s.destination(domain, List.of("aspmx.l.google.com"));
  }

  @Test
  void twoInstancesTakeFromOneRate() throws Exception {
    String yaml = "fleet-size: 2\nproviders:\n  google:\n    rate: 10/minute\n";
    Shaping a = instance(yaml);
    Shaping b = instance(yaml);
    int admitted = 0;
    for (int i = 0; i < 10; i++) {
      Shaping s = i % 2 == 0 ? a : b;
      if (s.admit(google(s, "d" + i + ".example")).isEmpty()) {
        admitted++;
      }
    }
    assertEquals(10, admitted);
    assertTrue(a.admit(google(a, "x.example")).isPresent(), "the 11th message of the minute waits on either");
    assertTrue(b.admit(google(b, "y.example")).isPresent());
    clock.advance(Duration.ofSeconds(6)); // one token per 6 s, for the fleet
    assertTrue(b.admit(google(b, "y.example")).isEmpty());
    assertTrue(a.admit(google(a, "x.example")).isPresent());
  }

  @Test
  void twoInstancesShareOneConnectionCount() throws Exception {
    String yaml = "providers:\n  google:\n    connections: 3\n";
    Shaping a = instance(yaml);
    Shaping b = instance(yaml);
    Lease a1 = a.open(google(a, "one.example")).orElseThrow();
    Lease b1 = b.open(google(b, "two.example")).orElseThrow();
    Lease a2 = a.open(google(a, "three.example")).orElseThrow();
    assertEquals(Optional.empty(), b.open(google(b, "two.example")));
    a1.close();
    Lease b2 = b.open(google(b, "two.example")).orElseThrow();
    assertEquals(Optional.empty(), a.open(google(a, "one.example")));
    List.of(b1, a2, b2).forEach(Lease::close);
  }

  @Test
  void aSuspensionSeenByOneInstanceHoldsTheOther() throws Exception {
    Shaping a = instance("{}\n");
    Shaping b = instance("{}\n");
    a.observe(google(a, "gmail.com"), 421, "4.7.28", "421 4.7.28 unusual rate of unsolicited mail - gsmtp");
    Optional<Hold> held = b.admit(google(b, "workspace.example"));
    assertTrue(held.isPresent(), "instance b holds Google too");
    assertTrue(held.get().reason().contains("google-unsolicited-rate"), held.get().reason());
    assertTrue(b.suspended("google"));
    clock.advance(Duration.ofMinutes(31));
    assertTrue(b.admit(google(b, "workspace.example")).isEmpty());
  }

  @Test
  void withRedisDownEachInstanceGoesOnWithItsShare() throws Exception {
    Shaping a = instance("fleet-size: 2\nproviders:\n  google:\n    rate: 10/minute\n    connections: 4\n");
    assertTrue(a.admit(google(a, "d.example")).isEmpty());
    redis.stop();
    int admitted = 0;
    for (int i = 0; i < 10; i++) {
      if (a.admit(google(a, "d.example")).isEmpty()) {
        admitted++;
      }
    }
    assertEquals(5, admitted, "half the rate (fleet-size 2), counted here");
    List<Lease> leases = new ArrayList<>();
    for (Optional<Lease> l = a.open(google(a, "d.example")); l.isPresent(); l = a.open(google(a, "d.example"))) {
      leases.add(l.get());
    }
    assertEquals(2, leases.size(), "half the connections");
    assertFalse(a.describeBudget().contains("Redis at") && !a.describeBudget().contains("unreachable"),
        a.describeBudget());
    leases.forEach(Lease::close);

    redis.startAgain();
    Thread.sleep(RedisBudget.RETRY.toMillis() + 200); // the budget tries Redis again after RETRY
    assertTrue(a.admit(google(a, "d.example")).isEmpty(), "back on Redis: a fresh bucket there");
    assertFalse(a.describeBudget().contains("unreachable"), a.describeBudget());
  }
}
