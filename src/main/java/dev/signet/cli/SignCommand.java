package dev.signet.cli;

import dev.signet.config.DomainName;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import dev.signet.message.MessageException;
import dev.signet.message.MessageSink;
import dev.signet.message.Submission;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code signet sign}: the relay's normalize-and-sign pipeline on one message, stdin to stdout. */
@Command(
    name = "sign",
    mixinStandardHelpOptions = true,
    description = {
      "Sign one message from stdin to stdout, as the relay would.",
      "",
      "Same checks (NUL, 998-octet lines, exactly one From), same fix-ups"
          + " (Date and Message-ID added when missing, and signed), same keys, tags and canonicalization"
          + " as 'serve'. Unlike the relay it adds no Received field: no SMTP hop took place, so there"
          + " is no client or HELO to record, and Received is not among the signed fields anyway.",
      "",
      "Line endings: a file saved by an editor or written by a Unix tool ends lines with LF; 'sign'"
          + " turns LF, CR and mixed endings into CRLF and writes CRLF (the relay's SMTP listener still"
          + " refuses bare LF, the raw material of SMTP smuggling; a local file carries no such risk).",
      "",
      "No size limit applies; the body is spooled to a temporary file (deleted afterwards), so"
          + " messages of any size sign in little memory. Exit 1 with the reason on stderr when no key"
          + " matches or the message is refused; 'sign' never writes a message unsigned, whatever"
          + " dkim.unsigned says."
    })
final class SignCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--keys", paramLabel = "DIR",
      description = "Key directory, keys/<domain>/<selector>.pem. Default: dkim.keys of the config (./keys).")
  Path keys;

  @Option(names = "--domain", paramLabel = "D",
      description = "Sign with the keys of domain D instead of those of the From domain.")
  String domain;

  @Option(names = "--selector", paramLabel = "S", description = "Use only the key with selector S.")
  String selector;

  @Override
  public Integer call() throws IOException {
    SignetConfig loaded = config.load();
    SignetConfig.Dkim d = loaded.dkim();
    Path keysDir = keys != null ? keys : d.keys();
    // A signing tool that prints the message unsigned would hide the very mistake it is run to find.
    SignetConfig.Dkim settings = d.toBuilder().keys(keysDir).unsigned(SignetConfig.UnsignedPolicy.REJECT).build();
    // RFC 5322 §2.1 wants CRLF; files on disk have LF. Normalizing is safe here: no SMTP server
    // downstream reads this input, so a bare LF cannot end anyone's DATA early (smuggling).
    SignetConfig.MessagePolicy normalize = new SignetConfig.MessagePolicy(SignetConfig.BareLineEndings.NORMALIZE);
    SignetConfig cfg = loaded.withDkim(settings).withMessage(normalize);

    KeyRing ring;
    try {
      ring = KeyRing.load(keysDir);
    } catch (DkimException e) {
      throw new CommandFailure(e.getMessage());
    }
    Submission submission = new Submission(cfg, new Signer(settings.signer(), Clock.systemUTC()), author -> choose(ring, author, settings));

    // java.io.tmpdir read now, not cached: a caller (or test) may point it at a roomier disk.
    Path spool = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "signet-sign-", ".body");
    try {
      Sink sink = new Sink(spool);
      try {
        submission.prepareLocal(System.in, Clock.systemUTC().instant(), sink, Long.MAX_VALUE);
      } catch (MessageException e) {
        throw new CommandFailure(e.smtpReply() + restriction());
      }
      OutputStream out = System.out;
      out.write(sink.headerBlock);
      try (InputStream body = Files.newInputStream(spool)) {
        body.transferTo(out);
      }
      out.flush();
      return 0;
    } finally {
      Files.deleteIfExists(spool);
    }
  }

  private List<SigningKey> choose(KeyRing ring, String authorDomain, SignetConfig.Dkim settings) {
    List<SigningKey> candidates = domain != null
        ? ring.keysFor(asciiOrAsGiven(domain), false)
        : ring.keysFor(authorDomain, settings.subdomains());
    return candidates.stream().filter(k -> selector == null || k.selector().equals(selector)).toList();
  }

  private static String asciiOrAsGiven(String name) {
    try {
      return DomainName.ascii(name);
    } catch (IllegalArgumentException e) {
      return name.toLowerCase(Locale.ROOT); // matches no key; the reply says "no DKIM key for" it
    }
  }

  private String restriction() {
    if (domain == null && selector == null) {
      return "";
    }
    return " (restricted to" + (domain != null ? " --domain " + domain : "")
        + (selector != null ? " --selector " + selector : "") + ")";
  }

  /** Body to the temporary file; the header block (small, bounded) kept until the body is complete. */
  private static final class Sink implements MessageSink {
    private final Path file;
    private byte[] headerBlock;

    Sink(Path file) {
      this.file = file;
    }

    @Override
    public OutputStream body() throws IOException {
      return new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
    }

    @Override
    public void headers(byte[] block) {
      headerBlock = block;
    }
  }
}
