package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signing never holds the body: a separate JVM limited to 64 MB of heap signs a 200 MB body (RSA
 * and Ed25519), and its bh= equals the SHA-256 of those 200 MB computed here.
 */
class LargeBodyStreamingTest {
  static final int BLOCKS = 3200; // x 64 KiB = 200 MiB

  @TempDir Path dir;

  /** A 64 KiB block of varied lines that are already canonical (single spaces, no trailing WSP). */
  static byte[] block() {
    StringBuilder sb = new StringBuilder(65536);
    int i = 0;
    while (true) {
      String line = "line " + i + " the quick brown fox " + "jumps ".repeat(i % 7) + "over the lazy dog\r\n";
      if (sb.length() + line.length() > 65536) {
        sb.append("x".repeat(65536 - sb.length() - 2)).append("\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
      }
      sb.append(line);
      i++;
    }
  }

  /** The child JVM: signs BLOCKS blocks with the keys in args[0], prints the fields. */
  public static void main(String[] args) throws Exception {
    KeyRing ring = KeyRing.load(Path.of(args[0]));
    Signer signer = new Signer(Fixtures.settings("relaxed/relaxed"), Clock.systemUTC());
    BodyHash body = signer.bodyHash();
    byte[] block = block();
    for (int i = 0; i < BLOCKS; i++) {
      body.write(block, 0, block.length);
    }
    body.close();
    List<HeaderField> headers = List.of(HeaderField.of("From: big@example.com\r\n"), HeaderField.of("Subject: 200 MB\r\n"));
    for (String field : signer.sign(headers, body, ring.all())) {
      System.out.print(field);
    }
    System.out.println("maxMemory=" + Runtime.getRuntime().maxMemory() + " length=" + body.length());
  }

  @Test
  void twoHundredMegabyteBodySignsWithin64MegabytesOfHeap() throws Exception {
    Fixtures.exampleKeys(dir);
    Path output = dir.resolve("child.out");
    List<String> command = new ArrayList<>(List.of(
        ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()),
        "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), LargeBodyStreamingTest.class.getName(), dir.toString()));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    if (!child.waitFor(180, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      throw new AssertionError("child JVM did not finish in 180 s");
    }
    String out = Files.readString(output);
    assertEquals(0, child.exitValue(), out);
    assertTrue(out.contains("maxMemory=") && out.contains(" length=" + (long) BLOCKS * 65536), out);
    long maxMemory = Long.parseLong(out.replaceAll("(?s).*maxMemory=(\\d+).*", "$1"));
    assertTrue(maxMemory <= 64L * 1024 * 1024, "child heap " + maxMemory);

    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    byte[] block = block();
    for (int i = 0; i < BLOCKS; i++) {
      sha256.update(block);
    }
    String expected = Base64.getEncoder().encodeToString(sha256.digest());
    Matcher bh = Pattern.compile("bh=([A-Za-z0-9+/=]{44});").matcher(out);
    int signatures = 0;
    while (bh.find()) {
      assertEquals(expected, bh.group(1), out);
      signatures++;
    }
    assertEquals(2, signatures, out); // RSA and Ed25519
  }

}
