package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet serve} as a separate JVM: a fresh install with no keys starts, refuses mail, stops on SIGTERM. */
class ServeCommandTest {
  @TempDir Path dir;

  @Test
  void freshInstallStartsWarnsAboutKeysRefusesMailAndStopsOnSigterm() throws Exception {
    Path config = dir.resolve("signet.yaml");
    Files.writeString(config, "hostname: relay.test\nlisten.submission: 127.0.0.1:0\nmetrics.listen: 127.0.0.1:0\nadmin.listen: 127.0.0.1:0\n"
        + "dkim.keys: " + dir.resolve("keys") + "\nspool.dir: " + dir.resolve("spool") + "\n");
    Process relay = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString())
        .redirectErrorStream(true).start();
    StringBuilder log = new StringBuilder();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(), StandardCharsets.UTF_8))) {
      int port = -1;
      Pattern listening = Pattern.compile("listening on /127\\.0\\.0\\.1:(\\d+)");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String first;
      while (port < 0 && System.nanoTime() < deadline && (first = out.readLine()) != null) {
        log.append(first).append('\n');
        Matcher m = listening.matcher(first);
        if (m.find()) {
          port = Integer.parseInt(m.group(1));
        }
      }
      assertTrue(port > 0, "never listened:\n" + log);
      assertTrue(log.toString().contains("no DKIM keys in") && log.toString().contains("signet keygen"), log.toString());
      try (Socket s = new Socket("127.0.0.1", port)) {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        OutputStream o = s.getOutputStream();
        assertTrue(in.readLine().startsWith("220 relay.test"));
        o.write(("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n").getBytes());
        String reply;
        while (!(reply = in.readLine()).startsWith("354")) {
          assertTrue(reply.startsWith("250"), reply);
        }
        o.write("From: a@example.com\r\nSubject: s\r\n\r\nx\r\n.\r\n".getBytes());
        reply = in.readLine();
        assertTrue(reply.startsWith("451 4.3.5"), reply);
      }
      relay.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
      assertTrue(relay.waitFor(30, TimeUnit.SECONDS));
      String line;
      StringBuilder rest = new StringBuilder();
      while ((line = out.readLine()) != null) {
        rest.append(line).append('\n');
      }
      assertTrue(rest.toString().contains("stopped"), rest.toString());
      assertEquals(143, relay.exitValue(), "exit status of a JVM ended by SIGTERM");
    } finally {
      relay.destroyForcibly();
    }
  }
}
