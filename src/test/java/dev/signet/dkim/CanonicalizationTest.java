package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.signet.dkim.Canonicalization.Canon;
import org.junit.jupiter.api.Test;

class CanonicalizationTest {
  @Test
  void canonicalizationParsesRfcForms() {
    assertEquals(new Canonicalization(Canon.SIMPLE, Canon.RELAXED), Canonicalization.parse("simple/relaxed"));
    // RFC 6376 §3.5: "c=relaxed" alone means relaxed/simple.
    assertEquals(new Canonicalization(Canon.RELAXED, Canon.SIMPLE), Canonicalization.parse("relaxed"));
    assertEquals("relaxed/relaxed", Canonicalization.parse("Relaxed/Relaxed").toString());
    assertThrows(IllegalArgumentException.class, () -> Canonicalization.parse("nofws/simple"));
  }
}
