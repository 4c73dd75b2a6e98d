package dev.signet.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.signet.config.ConfigException;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.Signer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Shared pieces of the message tests: configs, a trace, a sink that keeps the signed message. */
final class Fixtures {
  static final Instant RECEIVED = Instant.parse("2026-11-25T12:00:00Z");

  private Fixtures() {}

  /** Defaults plus {@code settings} given as SIGNET_* variables, hostname relay.example.com. */
  static SignetConfig config(String... settings) {
    Map<String, String> env = new HashMap<>();
    env.put("SIGNET_HOSTNAME", "relay.example.com");
    for (int i = 0; i < settings.length; i += 2) {
      env.put(settings[i], settings[i + 1]);
    }
    try {
      return SignetConfig.load(Optional.empty(), env);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** A pipeline that signs nothing (dkim.unsigned: relay): for the normalization rules alone. */
  static Submission unsigned(String... settings) {
    String[] all = new String[settings.length + 2];
    all[0] = "SIGNET_DKIM_UNSIGNED";
    all[1] = "relay";
    System.arraycopy(settings, 0, all, 2, settings.length);
    SignetConfig config = config(all);
    return new Submission(config, new Signer(config.dkim().signer(), Clock.systemUTC()), domain -> List.of());
  }

  static Trace trace() {
    try {
      return new Trace("4Q7XK2", "client.example.net", InetAddress.getByName("192.0.2.7"), Optional.empty(), false,
          RECEIVED);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Text with \n written as CRLF. */
  static byte[] crlf(String text) {
    return text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
  }

  static byte[] bytes(String raw) {
    return raw.getBytes(StandardCharsets.UTF_8);
  }

  /** Runs {@code data} through {@code submission} as the relay would and returns the signed message. */
  static Result submit(Submission submission, byte[] data) throws MessageException, IOException {
    Collected sink = new Collected();
    Prepared prepared = submission.prepare(new ByteArrayInputStream(data), trace(), sink, 10_000_000);
    return new Result(prepared, sink.message());
  }

  static MessageException refused(Submission submission, byte[] data) {
    return assertThrows(MessageException.class, () -> submit(submission, data));
  }

  static void assertRefused(String reply, Submission submission, byte[] data) {
    MessageException e = refused(submission, data);
    assertEquals(reply, e.replyCode() + " " + e.enhancedCode(), e.smtpReply());
  }

  record Result(Prepared prepared, byte[] message) {
    String text() {
      return new String(message, StandardCharsets.UTF_8);
    }
  }

  /** Keeps body and header block in memory and checks the order of calls the contract promises. */
  static final class Collected implements MessageSink {
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private byte[] headers;
    private boolean bodyClosed;

    @Override
    public OutputStream body() {
      return new OutputStream() {
        @Override
        public void write(int b) {
          body.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
          body.write(b, off, len);
        }

        @Override
        public void close() {
          bodyClosed = true;
        }
      };
    }

    @Override
    public void headers(byte[] block) {
      if (headers != null || !bodyClosed) {
        throw new UncheckedIOException(new IOException("headers() called twice or before the body was closed"));
      }
      headers = block;
    }

    /** The header block as first handed over: with placeholder b= values when there are signatures. */
    private byte[] unfilled;

    @Override
    public void headers(byte[] block, Signatures signatures) throws IOException, MessageException {
      unfilled = block.clone();
      byte[] rest = Arrays.copyOfRange(block, signatures.length(), block.length);
      MessageSink.super.headers(block, signatures); // fills them in, then headers(block)
      if (!Arrays.equals(rest, 0, rest.length, block, signatures.length(), block.length)) {
        throw new IllegalStateException("filling in the signatures changed more than the signatures");
      }
    }

    byte[] message() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(headers);
      out.writeBytes(body.toByteArray());
      return out.toByteArray();
    }

    /** The header block as handed over, then as filled in; then the body. */
    byte[] unfilled() {
      return unfilled;
    }

    byte[] headers() {
      return headers;
    }

    byte[] bodyBytes() {
      return body.toByteArray();
    }
  }
}
