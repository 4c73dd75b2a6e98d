package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.Await;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key rotation without a restart (docs/ARCHITECTURE.md, "Keys"): a new selector is added, the old key renamed
 * to .pem.retired, and the next message over SMTP is signed with the new selector only.
 */
class KeyRotationTest {
  private static final Pattern SELECTOR = Pattern.compile("\\bs=([A-Za-z0-9-]+);");

  @TempDir Path dir;
  private Path keys;
  private Relay relay;

  @BeforeEach
  void start() throws Exception {
    keys = dir.resolve("keys");
    OpsRig.installKey(keys, "rsa2048.pem", "example.com", "old2025");
    relay = OpsRig.start(OpsRig.config(dir, null, 25)); // no DNS: messages wait in the spool
  }

  @AfterEach
  void stop() {
    if (relay != null) {
      relay.stop(Duration.ofSeconds(2), Duration.ofSeconds(2));
    }
  }

  /** The selectors of the DKIM-Signature fields of the message the relay accepted. */
  private List<String> selectorsOfNextMessage() throws IOException {
    String reply = OpsRig.send(relay.submissionPort(), "app@example.com",
        OpsRig.message("app@example.com", "rotation"), "a@dest.test");
    assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
    String id = reply.substring(reply.lastIndexOf(' ') + 1);
    String message;
    try (InputStream in = relay.spool.open(id)) {
      message = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
    String head = message.substring(0, message.indexOf("\r\n\r\n"));
    List<String> selectors = new ArrayList<>();
    for (String field : head.split("\r\n(?![ \t])")) {
      if (field.regionMatches(true, 0, "DKIM-Signature:", 0, 15)) {
        Matcher m = SELECTOR.matcher(field.replaceAll("\r\n[ \t]+", " "));
        assertTrue(m.find(), field);
        selectors.add(m.group(1));
      }
    }
    return selectors;
  }

  /** keygen's step of the flow: the next selector next to the old one; then the old is retired. */
  private void rotate() throws IOException {
    OpsRig.installKey(keys, "ed25519.pem", "example.com", "new2026");
    Files.move(keys.resolve("example.com/old2025.pem"), keys.resolve("example.com/old2025.pem.retired"));
  }

  @Test
  void aRotatedKeyIsUsedForTheNextMessageAfterReload() throws Exception {
    assertEquals(List.of("old2025"), selectorsOfNextMessage());
    rotate();
    assertTrue(relay.reloadKeys()); // what SIGHUP does
    assertEquals(List.of("new2026"), selectorsOfNextMessage());
    assertEquals(List.of("new2026"), relay.keys.current().all().stream().map(k -> k.selector()).toList());
    assertEquals(List.of("old2025"), relay.keys.current().retired().stream().map(k -> k.selector()).toList());
  }

  @Test
  void theFileWatchPicksUpARotationWithoutASignal() throws Exception {
    assertEquals(List.of("old2025"), selectorsOfNextMessage());
    rotate();
    Await.await("the watch reloaded the keys", Duration.ofSeconds(20),
        () -> relay.keys.current().all().stream().anyMatch(k -> k.selector().equals("new2026"))
            && relay.keys.current().all().stream().noneMatch(k -> k.selector().equals("old2025")));
    assertEquals(List.of("new2026"), selectorsOfNextMessage());
  }

  @Test
  void aBrokenKeyDirectoryKeepsTheKeysInForceAndIsCounted() throws Exception {
    Path leaky = OpsRig.installKey(keys, "ed25519.pem", "example.com", "leaky");
    Files.setPosixFilePermissions(leaky, PosixFilePermissions.fromString("rw-r--r--"));
    assertFalse(relay.reloadKeys());
    assertEquals(List.of("old2025"), selectorsOfNextMessage());
    String m = OpsRig.get(relay.metricsPort(), "/metrics").body();
    assertTrue(OpsRig.sample(m, "signet_dkim_key_reloads_total{result=\"failed\"}") >= 1.0, m);
  }
}
