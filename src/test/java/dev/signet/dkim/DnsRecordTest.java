package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DnsRecordTest {
  @TempDir Path dir;

  @Test
  void rsaRecordPublishesTheSubjectPublicKeyInfo() throws Exception {
    SigningKey rsa = Fixtures.key(Fixtures.exampleKeys(dir), "rsa2048");
    DnsRecord record = DnsRecord.of(rsa);
    assertEquals("rsa2048._domainkey.example.com.", record.name());
    assertEquals("v=DKIM1; k=rsa; ", record.strings().get(0));
    String value = record.value();
    String p = value.substring(value.indexOf("p=") + 2);
    assertArrayEquals(rsa.publicKey().getEncoded(), Base64.getDecoder().decode(p));
    assertTrue(record.zoneLine().startsWith("rsa2048._domainkey.example.com. IN TXT ( \"v=DKIM1; k=rsa; \" \"p=MII"),
        record.zoneLine());
    assertTrue(record.zoneLine().endsWith("\" )"), record.zoneLine());
  }

  @Test
  void ed25519RecordPublishesTheRaw32ByteKey() throws Exception {
    SigningKey ed = Fixtures.key(Fixtures.exampleKeys(dir), "ed25519");
    DnsRecord record = DnsRecord.of(ed);
    assertEquals("v=DKIM1; k=ed25519; ", record.strings().get(0));
    byte[] p = Base64.getDecoder().decode(record.value().substring(record.value().indexOf("p=") + 2));
    assertEquals(32, p.length); // RFC 8463 §4: not the 44-byte SubjectPublicKeyInfo
    byte[] spki = ed.publicKey().getEncoded();
    assertArrayEquals(java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length), p);
    assertEquals(2, record.strings().size());
  }

  @Test
  void longKeysAreSplitIntoStringsOfAtMost255Characters() throws Exception {
    String pem = new String(Fixtures.resource("keys/rsa4096.pub.pem"), java.nio.charset.StandardCharsets.US_ASCII)
        .replaceAll("-----[A-Z ]+-----|\\s", "");
    PublicKey key = java.security.KeyFactory.getInstance("RSA")
        .generatePublic(new java.security.spec.X509EncodedKeySpec(Base64.getDecoder().decode(pem)));
    DnsRecord record = DnsRecord.of("example.com", "big", SigningKey.Algorithm.RSA_SHA256, key);
    assertEquals(4, record.strings().size()); // the tags, then p= of 738 characters in 3 strings
    for (String s : record.strings()) {
      assertTrue(s.length() <= 255, s.length() + ": " + s);
    }
    assertEquals(255, record.strings().get(1).length());
    assertEquals("v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(key.getEncoded()), record.value());
  }
}
