package dev.signet.dkim;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.signet.dkim.Canonicalization.Canon;
import java.util.Arrays;

/** Fuzz target: relaxed header canonicalization (RFC 6376 §3.4.2) is idempotent. */
class HeaderCanonicalizationFuzzTest {

  /**
   * Fields as the message stage hands them over: line ends only as CRLF (a bare CR or LF is refused
   * or normalized before signing; with one, "\r" + folding CRLF + "\n" would unfold into a new CRLF,
   * which the first fuzz run found - not reachable from the pipeline, see SubmissionFuzzTest).
   */
  @FuzzTest(maxDuration = "10s")
  void relaxedHeaderCanonicalizationIsIdempotent(byte[] raw) {
    for (int i = 0; i < raw.length; i++) {
      boolean bareCr = raw[i] == '\r' && (i + 1 == raw.length || raw[i + 1] != '\n');
      boolean bareLf = raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r');
      if (bareCr || bareLf) {
        return;
      }
    }
    HeaderCanonicalizer relaxed = HeaderCanonicalizer.of(Canon.RELAXED);
    byte[] once = relaxed.canonicalize(new HeaderField("X", raw));
    byte[] twice = relaxed.canonicalize(new HeaderField("X", once));
    if (!Arrays.equals(once, twice)) {
      throw new AssertionError("relaxed header canonicalization is not idempotent");
    }
    if (once.length < 2 || once[once.length - 2] != '\r' || once[once.length - 1] != '\n') {
      throw new AssertionError("a canonical field ends with CRLF");
    }
  }
}
