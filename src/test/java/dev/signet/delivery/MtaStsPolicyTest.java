package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 8461 §3.2 policy grammar and §4.1 MX matching. */
class MtaStsPolicyTest {

  @Test
  void theRfcExamplePolicyParses() throws Exception {
    // RFC 8461 §3.2's example.
    MtaStsPolicy p = MtaStsPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
        + "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n");
    assertEquals(MtaStsPolicy.Mode.ENFORCE, p.mode());
    assertEquals(List.of("mail.example.com", "*.example.net", "backupmx.example.com"), p.mx());
    assertEquals(604800, p.maxAgeSeconds());
  }

  @Test
  void lfLineEndingsAndUnknownFieldsAreAccepted() throws Exception {
    MtaStsPolicy p = MtaStsPolicy.parse("version: STSv1\nmode: testing\nmx: MX.Example.COM.\nextension: x\nmax_age: 0\n");
    assertEquals(MtaStsPolicy.Mode.TESTING, p.mode());
    assertEquals(List.of("mx.example.com"), p.mx());
  }

  @Test
  void modeNoneNeedsNoMx() throws Exception {
    assertEquals(MtaStsPolicy.Mode.NONE, MtaStsPolicy.parse("version: STSv1\nmode: none\nmax_age: 86400\n").mode());
  }

  @Test
  void brokenPoliciesAreInvalid() {
    String[] broken = {
      "mode: enforce\nmx: a.example\nmax_age: 1\n", // no version
      "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
      "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",
      "version: STSv1\nmode: enforce\nmax_age: 1\n", // no mx
      "version: STSv1\nmode: enforce\nmx: a.example\n", // no max_age
      "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", // over a year
      "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
      "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n", // twice
      "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", // star not leftmost
      "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\ngarbage\n",
      "<html>not a policy</html>",
    };
    for (String text : broken) {
      assertThrows(MtaStsPolicy.Invalid.class, () -> MtaStsPolicy.parse(text), text);
    }
  }

  @Test
  void aWildcardMatchesExactlyOneLeftmostLabel() throws Exception {
    MtaStsPolicy p = MtaStsPolicy.parse("version: STSv1\nmode: enforce\nmx: *.example.net\nmx: mail.example.com\nmax_age: 1\n");
    assertTrue(p.allows("mx1.example.net"));
    assertTrue(p.allows("MX1.EXAMPLE.NET."));
    assertTrue(p.allows("mail.example.com"));
    assertFalse(p.allows("example.net"), "the star stands for one label, not none");
    assertFalse(p.allows("a.b.example.net"), "nor for two");
    assertFalse(p.allows("mail.example.com.evil.test"));
    assertFalse(p.allows("xmail.example.com"));
  }
}
