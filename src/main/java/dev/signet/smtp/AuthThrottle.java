package dev.signet.smtp;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down password guessing: every failed AUTH waits {@code delay} times the failures so far on
 * its connection before the 535 goes out; a connection is dropped after {@code perConnection}
 * failures; an address with {@code perAddress} failures within {@code window} gets no further
 * password check until the window has passed.
 */
final class AuthThrottle {
  static final AuthThrottle DEFAULT = new AuthThrottle(Duration.ofSeconds(1), 3, 10, Duration.ofMinutes(15),
      Clock.systemUTC());

  private final Duration delay;
  private final int perConnection;
  private final int perAddress;
  private final Duration window;
  private final Clock clock;
  private final ConcurrentHashMap<InetAddress, Deque<Instant>> failures = new ConcurrentHashMap<>();

  AuthThrottle(Duration delay, int perConnection, int perAddress, Duration window, Clock clock) {
    this.delay = delay;
    this.perConnection = perConnection;
    this.perAddress = perAddress;
    this.window = window;
    this.clock = clock;
  }

  /** True while {@code address} has used up its failures for the window. */
  boolean blocked(InetAddress address) {
    Deque<Instant> recent = failures.get(address);
    if (recent == null) {
      return false;
    }
    synchronized (recent) {
      prune(recent);
      return recent.size() >= perAddress;
    }
  }

  /** Records a failure and waits; returns true when the connection must now be closed. */
  boolean failed(InetAddress address, int failuresOnConnection) throws InterruptedException {
    Deque<Instant> recent = failures.computeIfAbsent(address, a -> new ArrayDeque<>());
    synchronized (recent) {
      prune(recent);
      recent.addLast(clock.instant());
    }
    if (failures.size() > 10_000) {
      // Bound the memory an address-hopping attacker can make us hold.
      failures.entrySet().removeIf(e -> {
        synchronized (e.getValue()) {
          prune(e.getValue());
          return e.getValue().isEmpty();
        }
      });
    }
    Thread.sleep(delay.multipliedBy(failuresOnConnection).toMillis());
    return failuresOnConnection >= perConnection;
  }

  private void prune(Deque<Instant> recent) {
    Instant horizon = clock.instant().minus(window);
    while (!recent.isEmpty() && recent.peekFirst().isBefore(horizon)) {
      recent.removeFirst();
    }
  }
}
