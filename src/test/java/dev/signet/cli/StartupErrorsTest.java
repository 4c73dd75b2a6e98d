package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} that cannot start says which setting and why, in one line. */
class StartupErrorsTest {
  @TempDir Path dir;

  private String serveFails(String yaml) throws Exception {
    Path config = dir.resolve("signet.yaml");
    Files.writeString(config, "hostname: relay.test\nlisten.submission: 127.0.0.1:0\nmetrics.listen: 127.0.0.1:0\n"
        + "dkim.keys: " + dir.resolve("keys") + "\n" + yaml);
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(1, Main.run("serve", "--config", config.toString()));
    } finally {
      System.setErr(saved);
    }
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void unusableSpoolSaysWhy() throws Exception {
    Path spool = Files.createDirectories(dir.resolve("spool"));
    Files.writeString(spool.resolve("tmp"), "a file where the relay needs a directory");
    String err = serveFails("spool.dir: " + spool + "\n");
    assertTrue(err.contains("spool.dir " + spool + ": " + spool.resolve("tmp") + ": exists and is not a directory"), err);
  }

  @Test
  void spoolUnderAFileSaysWhy() throws Exception {
    Path file = Files.writeString(dir.resolve("plain-file"), "x");
    String err = serveFails("spool.dir: " + file.resolve("spool") + "\n");
    assertTrue(err.contains("spool.dir " + file.resolve("spool") + ": ") && err.contains("ot a directory"), err);
  }
}
