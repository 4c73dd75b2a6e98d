package dev.signet.delivery;

import static dev.signet.delivery.DeliveryFixture.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.BodyHash;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.HeaderField;
import dev.signet.dkim.KeyGenerator;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.testkit.ScriptedMx;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;
import org.apache.james.jdkim.exceptions.FailException;
import org.apache.james.jdkim.exceptions.PermFailException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * The end-to-end promise: what the receiving MTA gets still verifies. Signed with simple/simple (any
 * changed octet, re-folded header or re-encoded body breaks it), delivered over SMTP, verified by
 * Apache jDKIM with the key fetched over real DNS from the TestDnsServer.
 */
class SignedOnTheWireTest {

  @Test
  void aMessageSignedWithSimpleCanonicalizationStillVerifiesAtTheReceiver(@TempDir Path dir) throws Exception {
    SigningKey key = KeyGenerator.generate(dir.resolve("keys"), "example.com", "wire", SigningKey.Algorithm.RSA_SHA256,
        2048, false);
    Path message = dir.resolve("signed.eml");
    Files.write(message, sign(Files.readAllBytes(fixture("unsigned-dots-and-8bit.eml")), key));

    try (DeliveryFixture delivery = new DeliveryFixture()) {
      delivery.dns.add(DnsRecord.of(key).zoneLine());
      delivery.mx("dest.test", 10, "mx.dest.test", "127.0.0.2");
      // This receiver prepends a Received field, as real MTAs do: unsigned, so it must not matter.
      ScriptedMx mx = delivery.track(ScriptedMx.start("127.0.0.2", delivery.port).stampReceived());

      DeliveryResult result = delivery.sender().deliver(
          new DeliveryRequest("Q7", "sender@example.com", List.of("rcpt@dest.test"), message));

      assertEquals(1, result.delivered().size(), result.toString());
      byte[] received = mx.received().get(0).data();
      assertTrue(new String(received, StandardCharsets.ISO_8859_1).startsWith("Received:"));
      assertTrue(verifies(received, delivery.dns), "jDKIM rejected the delivered message");
      byte[] tampered = received.clone();
      tampered[tampered.length - 3] ^= 1; // proof the check can fail: one body bit
      assertFalse(verifies(tampered, delivery.dns));
    }
  }

  /** Signs {@code unsigned} (CRLF, no DKIM-Signature) and returns signature fields + message. */
  private static byte[] sign(byte[] unsigned, SigningKey key) throws Exception {
    int end = indexOf(unsigned, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) + 2;
    List<HeaderField> headers = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < end; i += 2) {
      i = indexOf(unsigned, "\r\n".getBytes(StandardCharsets.US_ASCII), i);
      boolean continues = i + 2 < end && (unsigned[i + 2] == ' ' || unsigned[i + 2] == '\t');
      if (!continues) {
        byte[] raw = Arrays.copyOfRange(unsigned, start, i + 2);
        String text = new String(raw, StandardCharsets.UTF_8);
        headers.add(new HeaderField(text.substring(0, text.indexOf(':')).strip(), raw));
        start = i + 2;
      }
    }
    SignetConfig.Dkim defaults = SignetConfig.defaults().dkim();
    SignetConfig.Dkim simple = defaults.toBuilder()
        .canonicalization(dev.signet.dkim.Canonicalization.parse("simple/simple")).build();
    Signer signer = new Signer(simple.signer(), Clock.systemUTC());
    BodyHash body = signer.bodyHash();
    body.write(unsigned, end + 2, unsigned.length - end - 2);
    body.close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String field : signer.sign(headers, body, List.of(key))) {
      out.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes(unsigned);
    return out.toByteArray();
  }

  private static boolean verifies(byte[] message, TestDnsServer dns) throws Exception {
    PublicKeyRecordRetriever retriever = (method, selector, domain) -> {
      try {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", dns.port()));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(
            Name.fromString(selector + "._domainkey." + domain + "."), Type.TXT, 1)));
        List<String> keys = new ArrayList<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
          keys.add(String.join("", ((TXTRecord) r).getStrings()));
        }
        return keys;
      } catch (java.io.IOException e) {
        throw new PermFailException("DNS: " + e.getMessage());
      }
    };
    DKIMVerifier verifier = new DKIMVerifier(retriever);
    try {
      var valid = verifier.verify(new ByteArrayInputStream(message));
      return valid != null && !valid.isEmpty() && verifier.hasAnyValidSignature();
    } catch (FailException e) {
      return false;
    }
  }

  private static int indexOf(byte[] data, byte[] needle) {
    return indexOf(data, needle, 0);
  }

  private static int indexOf(byte[] data, byte[] needle, int from) {
    outer:
    for (int i = from; i <= data.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
