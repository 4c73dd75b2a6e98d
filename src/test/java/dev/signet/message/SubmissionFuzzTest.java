package dev.signet.message;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.testkit.TestKeys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;

/**
 * Fuzz target: the whole normalize-and-sign pipeline on arbitrary DATA, under both
 * bare-line-ending policies. Properties: the only failure is a {@link MessageException} with a 4xx/5xx
 * reply; what it accepts is CRLF-only (no bare CR or LF) with a DKIM-Signature on top.
 * {@code mvn verify} replays the seeds in SubmissionFuzzTestInputs/; .ci/fuzz.sh fuzzes.
 */
class SubmissionFuzzTest {
  private static final Instant TRACE_TIME = Instant.parse("2026-11-25T18:00:00Z");
  private static final Submission REJECT = pipeline("reject");
  private static final Submission NORMALIZE = pipeline("normalize");
  private static final Trace TRACE = new Trace("01FUZZ", "client.test", InetAddress.getLoopbackAddress(),
      Optional.empty(), false, TRACE_TIME);

  private static Submission pipeline(String bareLineEndings) {
    try {
      Path dir = Files.createTempDirectory("signet-fuzz");
      Path keys = TestKeys.install(dir);
      // RSA only: a second (Ed25519) signature per input halves the executions and adds no paths here
      Files.delete(keys.resolve(TestKeys.DOMAIN).resolve(TestKeys.ED25519 + ".pem"));
      Path yaml = dir.resolve("signet.yaml");
      Files.writeString(yaml, "hostname: relay.test\ndkim.keys: " + keys + "\nmessage.bare-line-endings: "
          + bareLineEndings + "\n");
      SignetConfig config = SignetConfig.load(Optional.of(yaml), Map.of());
      Clock clock = Clock.fixed(TRACE_TIME, ZoneOffset.UTC);
      return new Submission(config, KeyRing.load(keys), new Signer(config.dkim().signer(), clock));
    } catch (Exception e) {
      throw new IllegalStateException("fuzz fixture", e);
    }
  }

  @FuzzTest(maxDuration = "20s")
  void anyDataIsSignedCrlfOnlyOrRefusedWithAReply(byte[] data) throws IOException {
    check(REJECT, data);
    check(NORMALIZE, data);
  }

  private static void check(Submission submission, byte[] data) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    byte[][] head = new byte[1][];
    MessageSink sink = new MessageSink() {
      @Override
      public OutputStream body() {
        return body;
      }

      @Override
      public void headers(byte[] headerBlock) {
        if (head[0] != null) {
          throw new AssertionError("headers() called twice");
        }
        head[0] = headerBlock;
      }
    };
    try {
      submission.prepare(new ByteArrayInputStream(data), TRACE, sink, 1 << 20);
    } catch (MessageException e) {
      int code = e.replyCode();
      if (code < 400 || code > 599 || !e.enhancedCode().matches("[45]\\.\\d{1,3}\\.\\d{1,3}")) {
        throw new AssertionError("bad reply " + e.smtpReply());
      }
      return;
    } catch (UncheckedIOException e) {
      throw new AssertionError("unexpected exception type", e);
    }
    if (head[0] == null) {
      throw new AssertionError("accepted without a header block");
    }
    byte[] header = head[0];
    if (!new String(header, 0, Math.min(15, header.length), java.nio.charset.StandardCharsets.US_ASCII)
        .equals("DKIM-Signature:")) {
      throw new AssertionError("accepted message does not start with a DKIM-Signature");
    }
    crlfOnly(header, "header block");
    crlfOnly(body.toByteArray(), "body");
  }

  private static void crlfOnly(byte[] b, String what) {
    for (int i = 0; i < b.length; i++) {
      boolean badCr = b[i] == '\r' && (i + 1 >= b.length || b[i + 1] != '\n');
      boolean badLf = b[i] == '\n' && (i == 0 || b[i - 1] != '\r');
      if (badCr || badLf || b[i] == 0) {
        throw new AssertionError(what + ": bare CR, bare LF or NUL at offset " + i);
      }
    }
  }
}
