package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.signet.testkit.Await;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile-input suite: many short hostile sessions leave no threads, sessions or heap behind. CI runs 2 000
 * sessions; the long form runs {@code -Dsignet.hostile.sessions=10000}. Numbers go to stdout (the
 * surefire report) and to {@code target/evidence/hostile-sessions.txt}.
 */
class HostileSessionsTest {
  @TempDir Path dir;

  private static final int SESSIONS = Integer.getInteger("signet.hostile.sessions", 2_000);
  private static final int CLIENTS = 8;
  private static final String HEADERS = LimitsTest.HEADERS;

  /** One hostile session; {@code kind} picks the abuse. Returns normally whatever the server did. */
  private static void hostile(int port, int kind) throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      switch (kind) {
        case 0 -> { } // connect and hang up before the greeting is read
        case 1 -> { // overlong command: 501, server hangs up
          c.hello();
          c.write("MAIL FROM:<" + "a".repeat(2000) + "@example.com>\r\n");
          expect(c.read(), "501");
        }
        case 2 -> { // smuggling attempt
          c.hello();
          LimitsTest.envelope(c);
          c.command("DATA");
          expect(c.command(HEADERS + "x\n.\nMAIL FROM:<evil@example.com>\r\n."), "550 5.6.0");
        }
        case 3 -> { // connection dropped inside DATA
          c.hello();
          LimitsTest.envelope(c);
          c.command("DATA");
          c.write(HEADERS + "half a message");
        }
        case 4 -> { // binary garbage instead of a greeting reply
          c.write(new byte[] {0, (byte) 0xff, 0x16, 0x03, 0x01, 0, 5, '\r', '\n', (byte) 0xc3, 0x28});
        }
        case 5 -> { // invalid UTF-8 in a command: 501, server hangs up
          c.hello();
          c.write(HostileInputTest.bytes("RCPT TO:<", 0xC3, 0x28, ">\r\n"));
          expect(c.read(), "501");
        }
        case 6 -> { // pipelined garbage, then QUIT
          c.hello();
          c.write("FOO\r\nVRFY root\r\nDATA\r\nQUIT\r\n");
          for (int i = 0; i < 4; i++) {
            c.read();
          }
        }
        case 7 -> { // BDAT announcing more than it sends, then hang up
          c.hello();
          LimitsTest.envelope(c);
          c.write("BDAT 100000 LAST\r\n" + HEADERS + "short");
        }
        default -> { // a bare CR in a command: 501, server hangs up
          c.hello();
          c.write("NOOP\rNOOP\r\n");
          expect(c.read(), "501");
        }
      }
    }
  }

  private static void expect(String reply, String prefix) throws IOException {
    if (!reply.startsWith(prefix)) {
      throw new IOException("expected " + prefix + ", got " + reply);
    }
  }

  @Test
  void thousandsOfHostileSessionsLeaveNoThreadsSessionsOrHeapBehind() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "limits.connections-per-ip: 100", "limits.connections: 200",
        "limits.idle-timeout: 5s")) {
      int port = relay.port();
      run(port, 90); // warm up: classes loaded, pools and caches filled
      settle(relay);
      try (SmtpClient open = new SmtpClient(port)) {
        open.hello();
        assertEquals(1, Snapshot.take(dir.resolve("one.json")).sessionThreads, "the dump sees a session thread");
      }
      settle(relay);
      Snapshot before = Snapshot.take(dir.resolve("before.json"));

      long start = System.nanoTime();
      AtomicInteger failures = run(port, SESSIONS);
      double seconds = (System.nanoTime() - start) / 1e9;
      settle(relay);
      Snapshot after = Snapshot.take(dir.resolve("after.json"));

      String report = String.format(
          "hostile sessions: %d in %.1f s (%.0f/s, %d clients); client-side surprises: %d%n"
              + "  platform threads: %d before, %d after; smtp session threads (virtual, from a thread dump): %d before, %d after%n"
              + "  heap used after GC: %.1f MB before, %.1f MB after (%+.1f MB); sessions active after: %.0f%n",
          SESSIONS, seconds, SESSIONS / seconds, CLIENTS, failures.get(),
          before.platformThreads, after.platformThreads, before.sessionThreads, after.sessionThreads,
          before.heapMb, after.heapMb, after.heapMb - before.heapMb, relay.meter("signet.smtp.sessions.active"));
      System.out.print(report);
      Path out = Path.of("target", "evidence");
      Files.createDirectories(out);
      Files.writeString(out.resolve("hostile-sessions.txt"), report);

      assertEquals(0, failures.get(), "every hostile session got the reply it should");
      assertEquals(0.0, relay.meter("signet.smtp.sessions.active"));
      assertEquals(0, after.sessionThreads, "no session thread outlives its session");
      assertTrue(after.platformThreads <= before.platformThreads + 4,
          "platform threads " + before.platformThreads + " -> " + after.platformThreads);
      assertTrue(after.heapMb - before.heapMb < 16, "heap grew by " + (after.heapMb - before.heapMb) + " MB");
      assertEquals(List.of(), relay.queued());
      assertEquals(List.of(), relay.files("tmp"));
      HostileInputTest.stillServes(port);
    }
  }

  /** {@code count} hostile sessions from {@link #CLIENTS} threads; returns how many went unexpectedly. */
  private static AtomicInteger run(int port, int count) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < CLIENTS; t++) {
        done.add(clients.submit(() -> {
          for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            try {
              hostile(port, i % 9);
            } catch (Exception | AssertionError e) {
              if (failures.incrementAndGet() <= 5) {
                System.out.println("session " + i + " (kind " + i % 9 + "): " + e);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      clients.shutdownNow();
    }
    return failures;
  }

  /** Waits (at most 20 s, failing after) until the server has ended every session. */
  private static void settle(TestRelay relay) throws InterruptedException {
    Await.await("every session ended", Duration.ofSeconds(20), () -> relay.meter("signet.smtp.sessions.active") == 0);
    Thread.sleep(200);
  }

  private record Snapshot(int platformThreads, int sessionThreads, double heapMb) {
    /** SubEthaSMTP renames a session's (virtual) thread after the session. */
    private static final Pattern SESSION_THREAD =
        Pattern.compile("\"name\"\\s*:\\s*\"org\\.subethamail\\.smtp\\.server\\.Session-");

    static Snapshot take(Path dump) throws IOException {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
      int platform = ManagementFactory.getThreadMXBean().getThreadCount();
      // Virtual threads are not in ThreadMXBean; a JSON thread dump lists them per container.
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .dumpThreads(dump.toAbsolutePath().toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
      Matcher m = SESSION_THREAD.matcher(Files.readString(dump, StandardCharsets.UTF_8));
      int sessions = 0;
      while (m.find()) {
        sessions++;
      }
      return new Snapshot(platform, sessions, heap);
    }
  }
}
