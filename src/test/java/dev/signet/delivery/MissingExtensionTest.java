package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.fixture;
import static dev.signet.delivery.DeliveryFixture.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.cli.Main;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.message.Dkimpy;
import dev.signet.message.SevenBit;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestKeys;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host without 8BITMIME or SMTPUTF8 is one host's shortcoming: the next MX is tried, a failure comes
 * only when every host lacks it, and 8-bit mail for a destination without 8BITMIME anywhere goes out
 * converted to 7 bits and signed again (RFC 6152 §3).
 */
class MissingExtensionTest {
  @TempDir Path dir;
  @RegisterExtension final DeliveryFixture fixture = DeliveryFixture.perTest();

  @Test
  void aPreferredMxWithout8bitmimeIsSkippedForOneThatOffersIt() throws Exception {
    fixture.mx("dest.test", 10, "old.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "new.dest.test", "127.0.0.3");
    ScriptedMx old = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("SIZE 100000"));
    ScriptedMx current = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port));

    DeliveryResult result = fixture.sender().deliver(request("dots-and-8bit.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertFalse(old.commands().stream().anyMatch(c -> c.startsWith("MAIL")), old.commands().toString());
    String sent = new String(Files.readAllBytes(fixture("dots-and-8bit.eml")), StandardCharsets.UTF_8);
    String got = new String(current.received().get(0).data(), StandardCharsets.UTF_8);
    assertTrue(got.endsWith(sent), "unchanged (after the MX's own trace field):\n" + got);
  }

  @Test
  void aPreferredMxWithoutSmtputf8IsSkippedForOneThatOffersIt() throws Exception {
    fixture.mx("dest.test", 10, "old.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "new.dest.test", "127.0.0.3");
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME"));
    ScriptedMx current = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port));

    DeliveryResult result = fixture.sender().deliver(request("utf8-headers.eml", "rcpt@dest.test"));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, current.received().size());
  }

  @Test
  void smtputf8FailsOnlyWhenEveryHostLacksIt() throws Exception {
    fixture.mx("dest.test", 10, "a.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "b.dest.test", "127.0.0.3");
    ScriptedMx a = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME"));
    ScriptedMx b = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port).extensions("8BITMIME"));

    DeliveryResult result = fixture.sender().deliver(request("utf8-headers.eml", "rcpt@dest.test"));

    RecipientOutcome.Failed failed = assertInstanceOf(RecipientOutcome.Failed.class, result.outcomes().get(0));
    assertEquals("5.6.9", failed.reply().status());
    assertTrue(failed.reply().text().contains("a.dest.test") && failed.reply().text().contains("b.dest.test"),
        failed.reply().text());
    assertTrue(a.commands().stream().anyMatch(c -> c.startsWith("EHLO")) && b.commands().stream().anyMatch(c -> c.startsWith("EHLO")));
  }

  @Test
  void smtputf8LackingAtOneHostAndTheOtherUnreachableIsRetriedLater() throws Exception {
    fixture.mx("dest.test", 10, "a.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "dead.dest.test", "127.0.0.9"); // nothing listens there
    fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("8BITMIME"));

    DeliveryResult result = fixture.sender().deliver(request("utf8-headers.eml", "rcpt@dest.test"));

    assertInstanceOf(RecipientOutcome.Deferred.class, result.outcomes().get(0), result.toString());
  }

  /** {@code signet sign} with the test keys: the message as the relay would have spooled it. */
  private Path signed(String message) throws Exception {
    Path keys = TestKeys.install(dir);
    InputStream stdin = System.in;
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      System.setIn(new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)));
      System.setOut(new PrintStream(out, true));
      assertEquals(0, Main.run("sign", "--keys", keys.toString()));
    } finally {
      System.setIn(stdin);
      System.setOut(stdout);
    }
    return Files.write(dir.resolve("signed.eml"), out.toByteArray());
  }

  private SmtpSender converting() throws Exception {
    SignetConfig config = SignetConfig.defaults();
    KeyRing ring = KeyRing.load(dir.resolve("keys"));
    SevenBit sevenBit = new SevenBit(config, new Signer(config.dkim().signer(), Clock.systemUTC()), () -> ring,
        Clock.systemUTC());
    MxResolver resolver = new MxResolver(List.of(fixture.dns.address()),
        new MxResolver.Settings(Duration.ofMillis(500), 1), new Random());
    return fixture.track(new SmtpSender("relay.signet.test",
        fixture.delivery(SignetConfig.TlsMode.OPPORTUNISTIC, Optional.empty()), resolver, DeliveryFixture.fast(null),
        Optional.of((source, out) -> {
          try (InputStream in = source.open()) {
            out.write(sevenBit.convert(in));
          }
        })));
  }

  private static final String MULTIPART = "From: Alice <alice@example.com>\r\nTo: rcpt@dest.test\r\n"
      + "Subject: 8-bit parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      + "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      + "Gr\u00fc\u00dfe aus K\u00f6ln, \u00e7a va?\r\n.a line starting with a dot\r\n"
      + "--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      + "caf\u00e9 \u20ac\r\n"
      + "--b1--\r\n";

  @Test
  void withoutAnyHostOffering8bitmimeTheMessageGoesOutIn7BitsSignedAgain() throws Exception {
    Path message = signed(MULTIPART);
    fixture.mx("dest.test", 10, "a.dest.test", "127.0.0.2");
    fixture.mx("dest.test", 20, "b.dest.test", "127.0.0.3");
    ScriptedMx a = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("SIZE 100000"));
    ScriptedMx b = fixture.track(ScriptedMx.start("127.0.0.3", fixture.port).extensions("SIZE 100000"));

    DeliveryResult result = converting().deliver(
        new DeliveryRequest("Q1", "alice@example.com", List.of("rcpt@dest.test"), message));

    assertEquals(1, result.delivered().size(), result.toString());
    assertEquals(1, a.received().size(), "the preferred host, once every host was found lacking 8BITMIME");
    assertEquals(0, b.received().size());
    assertTrue(a.commands().stream().anyMatch(c -> c.startsWith("MAIL FROM:<alice@example.com>") && !c.contains("BODY=")),
        a.commands().toString());
    String wire = a.received().get(0).text();
    assertTrue(wire.chars().allMatch(c -> c < 128), "7-bit only:\n" + wire);
    assertEquals(List.of("ok", "ok"), Dkimpy.verify(wire.getBytes(StandardCharsets.US_ASCII), dir.resolve("keys"), dir),
        wire);

    MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()),
        new ByteArrayInputStream(wire.getBytes(StandardCharsets.US_ASCII)));
    Multipart parts = (Multipart) parsed.getContent();
    assertEquals("quoted-printable", ((jakarta.mail.internet.MimeBodyPart) parts.getBodyPart(0)).getEncoding());
    assertEquals("Gr\u00fc\u00dfe aus K\u00f6ln, \u00e7a va?\r\n.a line starting with a dot",
        parts.getBodyPart(0).getContent());
    assertEquals("base64", ((jakarta.mail.internet.MimeBodyPart) parts.getBodyPart(1)).getEncoding());
    try (InputStream in = parts.getBodyPart(1).getInputStream()) {
      assertArrayEquals("caf\u00e9 \u20ac".getBytes(StandardCharsets.UTF_8), in.readAllBytes());
    }
    assertTrue(wire.contains("Message-ID: <"), wire);
    String originalId = Files.readString(message, StandardCharsets.UTF_8).replaceAll("(?s).*Message-ID: (<[^>]+>).*", "$1");
    assertTrue(wire.contains("Message-ID: " + originalId), "the Message-ID is kept:\n" + wire);
  }

  @Test
  void aSinglePart8BitMessageIsConvertedToQuotedPrintable() throws Exception {
    Path message = signed("From: Alice <alice@example.com>\r\nTo: rcpt@dest.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSch\u00f6ne Gr\u00fc\u00dfe\r\n");
    fixture.mx("dest.test", 10, "a.dest.test", "127.0.0.2");
    ScriptedMx a = fixture.track(ScriptedMx.start("127.0.0.2", fixture.port).extensions("SIZE 100000"));

    DeliveryResult result = converting().deliver(
        new DeliveryRequest("Q2", "alice@example.com", List.of("rcpt@dest.test"), message));

    assertEquals(1, result.delivered().size(), result.toString());
    String wire = a.received().get(0).text();
    assertTrue(wire.contains("Content-Transfer-Encoding: quoted-printable\r\n"), wire);
    assertTrue(wire.contains("Sch=C3=B6ne Gr=C3=BC=C3=9Fe"), wire);
    assertEquals(List.of("ok", "ok"), Dkimpy.verify(wire.getBytes(StandardCharsets.US_ASCII), dir.resolve("keys"), dir),
        wire);
  }
}
