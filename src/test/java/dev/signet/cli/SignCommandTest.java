package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.message.Dkimpy;
import dev.signet.testkit.TestKeys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code signet sign}: stdin to stdout through the relay's pipeline, exit 1 with a reason otherwise. */
class SignCommandTest {
  private static final String MESSAGE = "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n"
      + "Subject: hello\r\n\r\nHi Bob.\r\n";

  @TempDir Path dir;
  private Path keys;
  private final InputStream stdin = System.in;
  private final PrintStream stdout = System.out;
  private final PrintStream stderr = System.err;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void setUp() throws Exception {
    keys = TestKeys.install(dir);
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setIn(stdin);
    System.setOut(stdout);
    System.setErr(stderr);
  }

  private int sign(String message, String... args) {
    System.setIn(new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)));
    String[] command = Stream.concat(Stream.of("sign", "--keys", keys.toString()), Stream.of(args))
        .toArray(String[]::new);
    return Main.run(command);
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void signsWithEveryKeyOfTheFromDomainAndAddsNoReceived() {
    assertEquals(0, sign(MESSAGE), err::toString);
    String signed = output();
    assertEquals(2, Pattern.compile("(?m)^DKIM-Signature:").matcher(signed).results().count(), signed);
    assertTrue(signed.contains("s=rsa2026") && signed.contains("s=ed2026"), signed);
    assertTrue(!signed.contains("Received:"), signed);
    assertTrue(signed.contains("\r\nMessage-ID: <") && signed.contains("\r\nDate: "), signed);
    assertTrue(signed.contains("Subject: hello\r\nDate: "), signed);
    assertTrue(signed.endsWith(">\r\n\r\nHi Bob.\r\n"), signed);
  }

  @Test
  void selectorPicksOneKey() {
    assertEquals(0, sign(MESSAGE, "--selector", "rsa2026"), err::toString);
    assertEquals(1, Pattern.compile("(?m)^DKIM-Signature:").matcher(output()).results().count());
    assertTrue(output().contains("a=rsa-sha256"), output());
  }

  @Test
  void domainOverridesTheFromDomain() {
    String other = MESSAGE.replace("alice@example.com", "alice@example.org");
    assertEquals(0, sign(other, "--domain", "example.com", "--selector", "ed2026"), err::toString);
    assertTrue(output().contains("d=example.com") && output().contains("a=ed25519-sha256"), output());
  }

  @Test
  void noKeyForTheFromDomainExitsOneAndPrintsNothing() {
    assertEquals(1, sign(MESSAGE.replace("alice@example.com", "alice@example.org")));
    assertEquals("", output());
    assertEquals("signet sign: 451 4.3.5 no DKIM key for example.org\n", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void unknownSelectorExitsOne() {
    assertEquals(1, sign(MESSAGE, "--selector", "nope"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("no DKIM key for example.com (restricted to --selector nope)"),
        err::toString);
  }

  @Test
  void refusedMessageExitsOneWithTheSmtpReply() {
    assertEquals(1, sign(MESSAGE.replace("Hi Bob.", "x".repeat(999))));
    assertEquals("", output());
    assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("signet sign: 550 5.6.0 line 5 is longer than 998"),
        err::toString);
  }

  @Test
  void lfLineEndingsAreSignedAndWrittenAsCrlf() throws Exception {
    // A message as an editor or a Unix tool saves it: LF only.
    assertEquals(0, sign(MESSAGE.replace("\r\n", "\n")), err::toString);
    String signed = output();
    assertTrue(signed.endsWith("\r\n\r\nHi Bob.\r\n"), signed);
    assertTrue(!signed.replace("\r\n", "").contains("\n") && !signed.replace("\r\n", "").contains("\r"),
        "CRLF only: " + signed);
    assertEquals(List.of("ok", "ok"), Dkimpy.verify(out.toByteArray(), keys, dir), signed);
  }

  @Test
  void mixedLineEndingsAreNormalizedLikeCrlfInput() throws Exception {
    String mixed = "From: Alice <alice@example.com>\nTo: bob@example.net\r\nSubject: hello\n\r\nHi Bob.\nBye.\r\n";
    assertEquals(0, sign(mixed, "--selector", "ed2026"), err::toString);
    String signed = output();
    assertTrue(signed.contains("\r\nTo: bob@example.net\r\nSubject: hello\r\n"), signed);
    assertTrue(signed.endsWith("\r\n\r\nHi Bob.\r\nBye.\r\n"), signed);
    assertEquals(List.of("ok"), Dkimpy.verify(out.toByteArray(), keys, dir), signed);
  }

  @Test
  void whitespaceBeforeTheColonIsRemovedBeforeSigning() throws Exception {
    // RFC 5322 §4.5 obsolete syntax: Mail::DKIM copes with it, dkimpy cannot parse the header block.
    String obsolete = MESSAGE.replace("Subject: hello", "Subject  :  hello").replace("To: bob", "To\t: bob");
    assertEquals(0, sign(obsolete), err::toString);
    String signed = output();
    assertTrue(signed.contains("\r\nTo: bob@example.net\r\nSubject:  hello\r\n"), signed);
    assertEquals(List.of("ok", "ok"), Dkimpy.verify(out.toByteArray(), keys, dir), signed);
  }

  @Test
  void configChoosesTheCanonicalization() throws Exception {
    Path config = Files.writeString(dir.resolve("signet.yaml"), "dkim:\n  canonicalization: simple/simple\n");
    assertEquals(0, sign(MESSAGE, "--config", config.toString(), "--selector", "rsa2026"), err::toString);
    assertTrue(output().contains("c=simple/simple;"), output());
  }

  @Test
  void temporaryBodyFileIsDeleted() throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    String saved = System.getProperty("java.io.tmpdir");
    System.setProperty("java.io.tmpdir", tmp.toString());
    try {
      assertEquals(0, sign(MESSAGE));
      assertEquals(1, sign(MESSAGE.replace("Hi Bob.", "Hi\0Bob.")));
    } finally {
      System.setProperty("java.io.tmpdir", saved);
    }
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(0, left.count());
    }
  }
}
