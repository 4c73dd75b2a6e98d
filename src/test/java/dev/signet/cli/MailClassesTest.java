package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh relay initializes Jakarta Mail's classes, and SmtpConnection (whose initializer builds an
 * SSLContext), on its main thread, not in its first deliveries' virtual threads, where concurrent
 * initializations that read the jar once left a relay unable to deliver or stop
 * (dev.signet.delivery.MailClasses), deliveries and failure reports (DSNs) alike. Checked in a JVM of its
 * own, with the JVM's log of class initializations and the thread that ran each.
 */
class MailClassesTest {
  private static final Pattern INITIALIZED = Pattern.compile(
      "Initializing '((?:jakarta|org/eclipse/angus)/[^']+|dev/signet/delivery/SmtpConnection)'.* by thread \"([^\"]*)\"");

  @TempDir Path dir;

  @Test
  void jakartaMailIsInitializedBeforeAnyDeliveryOrBounce() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    Path initLog = dir.resolve("class-init.log");
    try (TestDnsServer dns = TestDnsServer.start();
        ScriptedMx mx = OpsRig.refusingMx("127.0.0.3", 0)) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.3");
      Path config = OpsRig.config(dir, dns, mx.port());
      try (RelayProcess relay = RelayProcess.serve(config, "-Xlog:class+init=info:file=" + initLog)) {
        for (int i = 0; i < 3; i++) {
          String reply = OpsRig.send(relay.port(), "app@example.com", OpsRig.message("app@example.com", "m" + i),
              "ok@dest.test");
          assertTrue(reply.startsWith("250 "), reply);
        }
        // and one refused with 550 5.1.1: the relay builds a DSN (Bouncer: MIME multipart/report)
        assertTrue(OpsRig.send(relay.port(), "app@example.com", OpsRig.message("app@example.com", "b"),
            "gone@dest.test").startsWith("250 "));
        relay.awaitLog("3 messages at the MX and a DSN built",
            () -> mx.received().size() == 3 && relay.log().indexOf("\"type\":\"dsn-sent\"") >= 0);
      }
    }
    Set<String> elsewhere = new TreeSet<>();
    Set<String> onMain = new TreeSet<>();
    for (String line : Files.readAllLines(initLog)) {
      Matcher m = INITIALIZED.matcher(line);
      if (m.find()) {
        (m.group(2).equals("main") ? onMain : elsewhere).add(m.group(1) + " by " + m.group(2));
      }
    }
    assertTrue(onMain.stream().anyMatch(c -> c.startsWith("jakarta/mail/internet/MimeUtility ")), onMain.toString());
    assertTrue(onMain.contains("dev/signet/delivery/SmtpConnection by main"), onMain.toString());
    assertEquals(Set.of(), elsewhere, "classes initialized off the main thread");
  }
}
