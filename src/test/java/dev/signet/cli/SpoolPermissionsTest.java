package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestCa;
import dev.signet.testkit.TestHttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Everything a relay writes under its spool is its user's alone: files 0600, directories 0700, as
 * Postfix keeps its queue. Not only the queue's files: the event log and the webhook cursors, the
 * suppression list, the admin API's address, the MTA-STS policy cache, the "delayed" markers and
 * the DMARC summaries. The relay starts as {@code serve} starts it, every one of those stages gets
 * used, and then the whole tree is walked.
 */
class SpoolPermissionsTest {
  private static final TestCa CA = TestCa.create("Signet Spool Test Root");
  private static final String SECRET = "0123456789abcdef-test-secret";
  private static final String POLICY = "version: STSv1\r\nmode: testing\r\nmx: mx.dest.test\r\nmax_age: 86400\r\n";

  @TempDir Path dir;

  @Test
  void everyFileARelayWritesUnderTheSpoolIs0600AndEveryDirectory0700() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    int mxPort = OpsRig.freePort();
    // RFC 8461 §3.3: policies come from port 443 only, so the policy host gets a loopback address of its own.
    String policyAddress = "127." + ThreadLocalRandom.current().nextInt(1, 255) + "."
        + ThreadLocalRandom.current().nextInt(0, 256) + "." + ThreadLocalRandom.current().nextInt(1, 255);
    Path spool = dir.resolve("spool");
    try (TestDnsServer dns = TestDnsServer.start();
        WebhookReceiver hook = WebhookReceiver.start(0, SECRET);
        ScriptedMx mx = OpsRig.refusingMx("127.0.0.3", mxPort);
        TestHttpsServer policyHost = TestHttpsServer.start(CA.issue("mta-sts.dest.test"),
            new InetSocketAddress(InetAddress.getByName(policyAddress), 443))) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3",
          "_mta-sts.dest.test. 300 IN TXT \"v=STSv1; id=1;\"", "mta-sts.dest.test. 300 IN A " + policyAddress,
          // nobody listens there: mail to late.test is deferred, and its sender warned
          "late.test. 300 IN MX 10 mx.late.test.", "mx.late.test. 300 IN A 127.0.0.4");
      policyHost.serve("/.well-known/mta-sts.txt", "text/plain", POLICY);
      Path config = OpsRig.config(dir, dns, mxPort, "delivery.retry: [1h]", "delivery.delay-warning: 1ms",
          "delivery.ca-file: " + CA.writeRootPem(dir.resolve("ca.pem")),
          "events.webhooks: [{url: 'http://127.0.0.1:" + hook.port() + "/hook', secret: '" + SECRET + "'}]");
      try (Relay relay = OpsRig.start(config)) {
        String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
            OpsRig.message("app@example.com", "private"), "ok@dest.test", "gone@dest.test", "someone@late.test");
        assertTrue(reply.startsWith("250"), reply);
        Await.await("delivered, bounced (and so suppressed) and deferred", Duration.ofSeconds(30),
            () -> hook.of("delivered", "ok@dest.test").size() == 1 && hook.of("bounced", "gone@dest.test").size() == 1
                && hook.of("deferred", "someone@late.test").size() == 1);
        Await.await("the delay warning marked", Duration.ofSeconds(30), () -> !list(spool.resolve("warned")).isEmpty());
        Await.await("the webhook's cursor saved", Duration.ofSeconds(30),
            () -> list(spool.resolve("events/cursors")).stream().anyMatch(f -> f.startsWith("webhook-")));
        OpsRig.Run add = OpsRig.signet("suppression", "add", "--config", config.toString(), "manual@dest.test");
        assertEquals(0, add.exit(), add.out() + add.err());
        Path report = Files.writeString(dir.resolve("report.xml"),
            DmarcCommandTest.xml("google.com", "noreply-dmarc-support@google.com", "g-1"));
        OpsRig.Run ingest = OpsRig.signet("dmarc", "ingest", "--config", config.toString(), report.toString());
        assertEquals(0, ingest.exit(), ingest.out() + ingest.err());

        TreeMap<String, String> modes = modes(spool);
        for (String expected : List.of("lock", "admin", "queue", "tmp", "corrupt", "events/0000000000000000.log",
            "events/cursors", "suppressions/list", "mta-sts/dest.test", "dmarc/tmp", "warned")) {
          assertTrue(modes.containsKey(expected), "spool/" + expected + " is there: " + modes.keySet());
        }
        assertTrue(modes.keySet().stream().anyMatch(p -> p.startsWith("dmarc/") && p.endsWith(".report")),
            modes.keySet().toString());
        assertPrivate(modes);
      }
    }
  }

  /** A spool an older version left open (0755 directories, 0644 files) is private once a relay has started on it. */
  @Test
  void anOlderVersionsOpenSpoolIsMadePrivateAtStart() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    Path spool = dir.resolve("spool");
    for (String d : List.of("tmp", "queue", "corrupt", "events/cursors", "suppressions", "mta-sts")) {
      Files.createDirectories(spool.resolve(d));
    }
    Files.writeString(spool.resolve("events/0000000000000000.log"), "");
    Files.writeString(spool.resolve("suppressions/list"), "+ old@dest.test 1 99999999999 manual\n");
    try (Stream<Path> all = Files.walk(spool)) {
      for (Path p : all.toList()) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    Path config = OpsRig.config(dir, null, OpsRig.freePort());
    try (Relay relay = OpsRig.start(config)) {
      TreeMap<String, String> modes = modes(spool);
      for (String expected : List.of("events/0000000000000000.log", "events/cursors", "suppressions/list", "mta-sts",
          "admin")) {
        assertTrue(modes.containsKey(expected), "spool/" + expected + " is there: " + modes.keySet());
      }
      assertPrivate(modes);
    }
  }

  private static void assertPrivate(TreeMap<String, String> modes) {
    List<String> open = new ArrayList<>();
    modes.forEach((path, mode) -> {
      if (!mode.equals(mode.startsWith("d") ? "drwx------" : "-rw-------")) {
        open.add(mode + " spool/" + path);
      }
    });
    assertEquals(List.of(), open, "not private");
  }

  /** Relative path → "d" or "-" and the permissions, of the spool and everything under it. */
  private static TreeMap<String, String> modes(Path spool) throws IOException {
    TreeMap<String, String> modes = new TreeMap<>();
    Files.walkFileTree(spool, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
        record(d);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        record(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE; // a temporary file renamed or deleted while we looked
        }
        throw e;
      }

      private void record(Path p) throws IOException {
        try {
          PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          String kind = a.isDirectory() ? "d" : a.isRegularFile() ? "-" : "?";
          modes.put(spool.relativize(p).toString(), kind + PosixFilePermissions.toString(a.permissions()));
        } catch (NoSuchFileException e) {
          // renamed or deleted while we looked
        }
      }
    });
    return modes;
  }

  private static List<String> list(Path d) {
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
