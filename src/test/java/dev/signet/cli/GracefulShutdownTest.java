package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.queue.Envelope;
import dev.signet.queue.Spool;
import dev.signet.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping the relay (RFC 5321 §3.8): new and idle sessions get 421 4.3.2, a transaction in DATA
 * finishes with its 250, and no message that got a 250 is lost, also under load with a real SIGTERM.
 */
class GracefulShutdownTest {
  @TempDir Path dir;

  @Test
  void aMessageInDataFinishesWhileNewAndIdleSessionsGet421() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
    Relay relay = OpsRig.start(OpsRig.config(dir, null, 25));
    int port = relay.submissionPort();
    String id;
    try (Socket busy = new Socket("127.0.0.1", port); Socket idle = new Socket("127.0.0.1", port)) {
      busy.setSoTimeout(20_000);
      idle.setSoTimeout(20_000);
      BufferedReader busyIn = new BufferedReader(new InputStreamReader(busy.getInputStream(), StandardCharsets.US_ASCII));
      BufferedReader idleIn = new BufferedReader(new InputStreamReader(idle.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream busyOut = busy.getOutputStream();
      assertTrue(OpsRig.reply(busyIn).startsWith("220"));
      assertTrue(OpsRig.reply(idleIn).startsWith("220"));
      OpsRig.write(idle.getOutputStream(), "EHLO idle.test\r\n");
      assertTrue(OpsRig.reply(idleIn).startsWith("250"));
      for (String c : List.of("EHLO busy.test", "MAIL FROM:<app@example.com>", "RCPT TO:<a@dest.test>")) {
        OpsRig.write(busyOut, c + "\r\n");
        assertTrue(OpsRig.reply(busyIn).startsWith("250"), c);
      }
      OpsRig.write(busyOut, "DATA\r\n");
      assertTrue(OpsRig.reply(busyIn).startsWith("354"));
      OpsRig.write(busyOut, "From: <app@example.com>\r\nSubject: in flight\r\n\r\nfirst half\r\n");

      Thread stopper = Thread.ofPlatform().start(() -> relay.stop(Duration.ofSeconds(15), Duration.ofSeconds(2)));
      assertEquals("421 4.3.2 Service shutting down, closing transmission channel", OpsRig.reply(idleIn));
      try (Socket late = new Socket("127.0.0.1", port)) {
        late.setSoTimeout(10_000);
        String greeting = OpsRig.reply(new BufferedReader(new InputStreamReader(late.getInputStream(), StandardCharsets.US_ASCII)));
        assertTrue(greeting.startsWith("421 4.3.2"), greeting);
      } catch (java.net.ConnectException refused) {
        // also acceptable: the listener is already closed
      }
      assertTrue(stopper.isAlive(), "stop waits for the transaction in DATA");
      OpsRig.write(busyOut, "second half\r\n.\r\n");
      String reply = OpsRig.reply(busyIn);
      assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
      id = reply.substring(reply.lastIndexOf(' ') + 1);
      stopper.join(TimeUnit.SECONDS.toMillis(20));
      assertTrue(!stopper.isAlive(), "stopped within the grace");
    }
    try (Spool spool = Spool.open(dir.resolve("spool"))) {
      assertEquals(List.of(id), spool.list().stream().map(Envelope::id).toList());
    }
  }

  @Test
  void sighupReloadsKeysAndSigtermUnderLoadLosesNoAcknowledgedMessage() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2026");
    Path config = OpsRig.config(dir, null, 25);
    // env --default-signal=HUP: a build started under nohup passes HUP on as ignored, and a JVM never
    // handles a signal it inherited as ignored (Signals then warns instead of reloading).
    Process relay = new ProcessBuilder("env", "--default-signal=HUP", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString())
        .redirectErrorStream(true).start();
    StringBuffer log = new StringBuffer();
    CountDownLatch listening = new CountDownLatch(1);
    AtomicInteger port = new AtomicInteger();
    Pattern bound = Pattern.compile("listening on /127\\.0\\.0\\.1:(\\d+)");
    Thread reader = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = out.readLine()) != null) {
          log.append(l).append('\n');
          Matcher m = bound.matcher(l);
          if (m.find()) {
            port.set(Integer.parseInt(m.group(1)));
            listening.countDown();
          }
        }
      } catch (IOException e) {
        // the process ended
      }
    });
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicBoolean stopClients = new AtomicBoolean();
    try {
      assertTrue(listening.await(60, TimeUnit.SECONDS), "never listened:\n" + log);
      Await.await("started", Duration.ofSeconds(30), () -> log.toString().contains("metrics: http://"));
      // SIGHUP reloads the keys and, unlike the JVM's default for HUP, does not stop the relay.
      Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(relay.pid())).start();
      assertTrue(hup.waitFor(10, TimeUnit.SECONDS) && hup.exitValue() == 0);
      try {
        Await.await("keys reloaded on SIGHUP", Duration.ofSeconds(20),
            () -> log.toString().contains("dkim.keys reloaded: active [d=example.com s=rsa2026 a=rsa-sha256]"));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\n" + log, e);
      }
      assertTrue(relay.isAlive(), "SIGHUP stopped the relay:\n" + log);
      List<Thread> clients = new java.util.ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int client = c;
        clients.add(Thread.ofPlatform().start(() -> {
          // Bounded: at most 500 messages per client, and only until the relay stops answering.
          for (int i = 0; i < 500 && !stopClients.get(); i++) {
            try {
              String reply = OpsRig.send(port.get(), "app@example.com",
                  OpsRig.message("app@example.com", "load " + client + "." + i), "a@dest.test");
              if (reply.startsWith("250 ")) {
                acknowledged.add(reply.substring(reply.lastIndexOf(' ') + 1));
              }
            } catch (IOException e) {
              return; // refused or cut off: the relay is going away
            }
          }
        }));
      }
      Await.await("some messages acknowledged", Duration.ofSeconds(60), () -> acknowledged.size() >= 20);
      long t0 = System.nanoTime();
      relay.toHandle().destroy(); // SIGTERM
      assertTrue(relay.waitFor(40, TimeUnit.SECONDS), "relay still running 40 s after SIGTERM:\n" + log);
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      stopClients.set(true);
      for (Thread t : clients) {
        t.join(TimeUnit.SECONDS.toMillis(40));
      }
      reader.join(TimeUnit.SECONDS.toMillis(5));
      assertTrue(seconds <= 30, "stopped after " + seconds + " s");
      assertEquals(143, relay.exitValue(), "exit status of a JVM ended by SIGTERM");
      assertTrue(log.toString().contains("stopped"), log.toString());
    } finally {
      stopClients.set(true);
      relay.destroyForcibly();
    }
    try (Spool spool = Spool.open(dir.resolve("spool"))) {
      Set<String> queued = spool.list().stream().map(Envelope::id).collect(Collectors.toSet());
      Set<String> lost = new java.util.TreeSet<>(acknowledged);
      lost.removeAll(queued);
      assertTrue(lost.isEmpty(), lost.size() + " of " + acknowledged.size() + " acknowledged messages lost: " + lost);
      System.out.printf("SIGTERM under load: %d acknowledged, %d in the spool after restart%n",
          acknowledged.size(), queued.size());
    }
  }
}
