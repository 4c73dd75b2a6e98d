package dev.signet.message;

import dev.signet.config.DomainName;
import dev.signet.config.SignetConfig;
import dev.signet.dkim.BodyHash;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.HeaderField;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SignatureTags;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The normalize-and-sign pipeline shared by the SMTP server and {@code signet sign}: checks the data
 * (line endings, NUL, line length, header syntax, exactly one From), adds Date and Message-ID when
 * missing (RFC 6409 §8; before signing, so they are signed), streams the body through the DKIM body
 * hash into the sink, lays out the author domain's signatures and hands the sink the header block
 * with them, and what computes them ({@link Signatures}).
 * One instance serves a whole relay; it holds no per-message state and is safe to share.
 */
public final class Submission {

  /** Which keys sign a message whose From domain is {@code authorDomain}; empty = none. */
  @FunctionalInterface
  public interface KeyChoice {
    List<SigningKey> keysFor(String authorDomain);
  }

  private static final byte[] CRLF = {'\r', '\n'};
  /**
   * The most Received fields a message may hold once this relay added its own: Postfix's
   * {@code hopcount_limit} (50). A message that comes round a loop gains one per pass, so the loop
   * ends here instead of when the header block overflows.
   */
  static final int MAX_RECEIVED = 50;

  private final SignetConfig config;
  private final Signer signer;
  private final KeyChoice keyChoice;
  private final AddedFields added;

  /** The relay's pipeline: keys for the From domain from {@code keys} ({@code dkim.subdomains} applies). */
  public Submission(SignetConfig config, KeyRing keys, Signer signer) {
    this(config, signer, domain -> keys.keysFor(domain, config.dkim().subdomains()));
  }

  /** A pipeline with its own key choice ({@code signet sign --domain/--selector}). */
  public Submission(SignetConfig config, Signer signer, KeyChoice keyChoice) {
    this.config = config;
    this.signer = signer;
    this.keyChoice = keyChoice;
    this.added = new AddedFields(config.hostname());
  }

  /**
   * Normalizes and signs one message as received over SMTP, with a Received field for {@code trace}.
   * Stops reading at the first problem: on a {@link MessageException} the rest of {@code data} is
   * unread (an SMTP server must still consume it up to CRLF.CRLF, or close the connection) and the
   * caller discards whatever the sink got.
   *
   * @param data the DATA content, dot-unstuffed, without the terminating CRLF.CRLF
   * @param maxSize the most bytes of {@code data} accepted (552 5.3.4 beyond)
   */
  public Prepared prepare(InputStream data, Trace trace, MessageSink sink, long maxSize)
      throws MessageException, IOException {
    return run(data, Optional.of(trace), trace.received(), sink, maxSize);
  }

  /**
   * Like {@link #prepare} but adds no Received field: {@code signet sign} is not an SMTP hop, so it
   * has no client or HELO to record. Normalization, fix-ups and signatures are the same.
   */
  public Prepared prepareLocal(InputStream data, Instant now, MessageSink sink, long maxSize)
      throws MessageException, IOException {
    return run(data, Optional.empty(), now, sink, maxSize);
  }

  /**
   * Signs a message the relay wrote itself (a bounce): the {@link #prepareLocal} pipeline in memory,
   * for messages of a bounded size. Returns the signed message (unsigned when no key matches and
   * {@code dkim.unsigned} of this pipeline's config is {@code relay}).
   */
  public byte[] signGenerated(byte[] message, Instant now) throws MessageException, IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream(message.length);
    byte[][] headers = new byte[1][];
    prepareLocal(new java.io.ByteArrayInputStream(message), now, new MessageSink() {
      @Override
      public OutputStream body() {
        return body;
      }

      @Override
      public void headers(byte[] block) {
        headers[0] = block;
      }
    }, Long.MAX_VALUE);
    ByteArrayOutputStream out = new ByteArrayOutputStream(headers[0].length + body.size());
    out.writeBytes(headers[0]);
    body.writeTo(out);
    return out.toByteArray();
  }

  private Prepared run(InputStream data, Optional<Trace> trace, Instant now, MessageSink sink, long maxSize)
      throws MessageException, IOException {
    boolean normalize = config.message().bareLineEndings() == SignetConfig.BareLineEndings.NORMALIZE;
    LineReader lines = new LineReader(data, normalize, maxSize);
    HeaderBlock header = HeaderBlock.read(lines);
    int hops = header.named("Received").size();
    if (trace.isPresent() && hops >= MAX_RECEIVED) {
      // RFC 5321 §6.3: a relay must detect and break loops; RFC 3463 X.4.6 "routing loop detected".
      throw new MessageException(554, "5.4.6", "too many hops: " + hops + " Received header fields (limit "
          + MAX_RECEIVED + " with this relay's own), mail loop");
    }
    List<String> mailboxDomains = authorDomains(header);
    String authorDomain = mailboxDomains.get(0);

    List<HeaderField> fields = new ArrayList<>(header.fields());
    if (header.named("Date").isEmpty()) {
      fields.add(added.dateField(now));
    }
    Optional<String> existingId = header.value("Message-ID");
    String messageId = existingId.orElseGet(added::newMessageId);
    if (existingId.isEmpty()) {
      fields.add(AddedFields.messageIdField(messageId));
    }

    // Keys depend only on the author domain: choose them before reading a possibly large body.
    List<SigningKey> keys = keyChoice.keysFor(authorDomain);
    if (keys.isEmpty() && config.dkim().unsigned() == SignetConfig.UnsignedPolicy.REJECT) {
      // RFC 3463 §3.4: 4.3.5 "system incorrectly configured"; temporary, so nothing is lost
      // while the operator adds the key.
      throw new MessageException(451, "4.3.5", "no DKIM key for " + authorDomain);
    }

    BodyHash bodyHash = signer.bodyHash();
    long bodySize;
    try (OutputStream body = sink.body()) {
      bodySize = copyBody(lines, bodyHash, body);
    }
    bodyHash.close();

    Signer.Pending pending = null;
    if (!keys.isEmpty()) {
      try {
        pending = signer.prepare(fields, bodyHash, keys);
      } catch (DkimException e) {
        throw MessageException.of(e);
      }
    }

    ByteArrayOutputStream block = new ByteArrayOutputStream(4096);
    List<String> placeholders = pending == null ? List.of() : pending.placeholders();
    for (String field : placeholders) {
      block.writeBytes(field.getBytes(StandardCharsets.US_ASCII));
    }
    int signaturesLength = block.size();
    trace.ifPresent(t -> block.writeBytes(added.receivedField(t).raw()));
    for (HeaderField field : fields) {
      block.writeBytes(field.raw());
    }
    block.writeBytes(CRLF);
    byte[] headerBlock = block.toByteArray();
    if (pending == null) {
      sink.headers(headerBlock);
    } else {
      sink.headers(headerBlock, new Signatures(pending, signaturesLength));
    }

    List<SignatureTags> described = keys.stream().map(SignatureTags::of).toList();
    return new Prepared(authorDomain, mailboxDomains, messageId, pending == null ? List.of() : described,
        headerBlock.length + bodySize);
  }

  /**
   * RFC 5322 §3.6: exactly one From, a mailbox-list; its first mailbox names the domain whose keys
   * sign. §3.6.2: a From with several mailboxes needs a Sender with exactly one.
   *
   * @return the domains of every mailbox in From, then Sender's; the first is the author domain
   */
  private static List<String> authorDomains(HeaderBlock header) throws MessageException {
    List<HeaderField> from = header.named("From");
    if (from.isEmpty()) {
      throw MessageException.badContent("no From header field (RFC 5322 section 3.6 requires one)");
    }
    if (from.size() > 1) {
      throw MessageException.badContent(from.size() + " From header fields (RFC 5322 section 3.6 allows one)");
    }
    List<String> domains = new ArrayList<>();
    List<MailboxList.Mailbox> authors = mailboxes("From", from.get(0));
    authors.forEach(m -> domains.add(aLabels(m.domain())));
    List<HeaderField> sender = header.named("Sender");
    if (sender.size() > 1) {
      throw MessageException.badContent(sender.size() + " Sender header fields (RFC 5322 section 3.6 allows one)");
    }
    if (!sender.isEmpty()) {
      List<MailboxList.Mailbox> senders = mailboxes("Sender", sender.get(0));
      if (senders.size() != 1) {
        throw MessageException.badContent("the Sender header field must hold exactly one mailbox (RFC 5322 section 3.6.2)");
      }
      domains.add(aLabels(senders.get(0).domain()));
    } else if (authors.size() > 1) {
      throw MessageException.badContent("From holds " + authors.size()
          + " mailboxes: a Sender header field naming the one who sent it is required (RFC 5322 section 3.6.2)");
    }
    return List.copyOf(domains);
  }

  /**
   * RFC 6376 §3.5 d=, the key lookup and the sender-domain lock use A-labels: a@bücher.example signs
   * with the keys of xn--bcher-kva.example (RFC 6532 lets the From field itself stay in UTF-8).
   */
  private static String aLabels(String domain) {
    if (domain.startsWith("[")) {
      return domain; // an address literal: no keys can name it, dkim.unsigned decides
    }
    try {
      return DomainName.ascii(domain);
    } catch (IllegalArgumentException e) {
      return domain; // not a valid IDN: matches no key, so refused (451 4.3.5) or relayed unsigned
    }
  }

  private static List<MailboxList.Mailbox> mailboxes(String name, HeaderField field) throws MessageException {
    try {
      return MailboxList.parse(HeaderBlock.valueOf(field));
    } catch (MailboxList.Invalid e) {
      throw MessageException.badContent("the " + name + " header field is not a valid RFC 5322 mailbox list: "
          + e.getMessage());
    }
  }

  /**
   * Copies the body lines with CRLF endings to the hash and the sink through one buffer. A last line
   * without a line ending gets one: SMTP transmits it that way (RFC 5321 §4.1.1.4), and both DKIM body
   * canonicalizations add it anyway (RFC 6376 §3.4.3, §3.4.4).
   */
  private static long copyBody(LineReader lines, OutputStream hash, OutputStream sink)
      throws IOException, MessageException {
    byte[] buffer = new byte[16 * 1024];
    int used = 0;
    long total = 0;
    while (lines.next()) {
      int needed = lines.length() + 2;
      if (used + needed > buffer.length) {
        hash.write(buffer, 0, used);
        sink.write(buffer, 0, used);
        total += used;
        used = 0;
      }
      System.arraycopy(lines.bytes(), 0, buffer, used, lines.length());
      used += lines.length();
      buffer[used++] = '\r';
      buffer[used++] = '\n';
    }
    hash.write(buffer, 0, used);
    sink.write(buffer, 0, used);
    return total + used;
  }
}
