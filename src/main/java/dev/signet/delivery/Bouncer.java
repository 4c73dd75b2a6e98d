package dev.signet.delivery;

import dev.signet.events.BounceRules;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MailDateFormat;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UnsupportedEncodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.eclipse.angus.mail.util.CRLFOutputStream;

/**
 * Builds delivery status notifications (RFC 3464) for the sender of a message: a multipart/report
 * (RFC 6522) with a human-readable part, a message/delivery-status part with one block per recipient,
 * and the original's header fields as text/rfc822-headers. The result is a message to enqueue with the
 * null sender (RFC 5321 §4.5.5), so a DSN can never cause another DSN.
 */
public final class Bouncer {

  /** The message a DSN is about. */
  public record Original(String queueId, String mailFrom, MessageSource message, Instant arrival) {
    /** The original is the whole of the file {@code message}. */
    public Original(String queueId, String mailFrom, Path message, Instant arrival) {
      this(queueId, mailFrom, MessageSource.of(message), arrival);
    }
  }

  /** A DSN ready to enqueue: send {@code message} from {@code <>} to {@code recipient}. */
  public record Bounce(String recipient, byte[] message) {}

  /** Header fields of the original kept in the DSN, at most; enough for any sane header section. */
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final String hostname;
  private final String fromDomain;
  private final Clock clock;
  private final BounceRules rules;
  private final Session session = Session.getInstance(new Properties());

  /** DSNs from {@code MAILER-DAEMON@hostname}. */
  public Bouncer(String hostname, Clock clock) {
    this(hostname, hostname, clock, BounceRules.shipped());
  }

  /** @param rules classify each recipient's failure; the class is shown beside its reply */
  public Bouncer(String hostname, Clock clock, BounceRules rules) {
    this(hostname, hostname, clock, rules);
  }

  /** DSNs from {@code MAILER-DAEMON@fromDomain}, classified by the shipped rules. */
  public Bouncer(String hostname, String fromDomain, Clock clock) {
    this(hostname, fromDomain, clock, BounceRules.shipped());
  }

  /**
   * @param hostname the relay's name: Reporting-MTA, Message-ID and the text of the DSN
   * @param fromDomain the domain of the DSN's From address ({@code MAILER-DAEMON@fromDomain}), whose
   *     keys sign it
   * @param rules classify each recipient's failure; the class is shown beside its reply
   */
  public Bouncer(String hostname, String fromDomain, Clock clock, BounceRules rules) {
    this.hostname = hostname;
    this.fromDomain = fromDomain;
    this.clock = clock;
    this.rules = rules;
  }

  /**
   * A "failed" DSN listing the {@link RecipientOutcome.Failed} outcomes (others are ignored). Empty
   * when the original had the null sender (never bounce a bounce, RFC 3464 §2 / RFC 5321 §4.5.5) or
   * nothing failed.
   */
  public Optional<Bounce> failed(Original original, List<? extends RecipientOutcome> outcomes) throws IOException {
    List<RecipientOutcome> failed = outcomes.stream()
        .filter(o -> o instanceof RecipientOutcome.Failed).map(o -> (RecipientOutcome) o).toList();
    return build(original, failed, Optional.empty(),
        "Undelivered Mail Returned to Sender",
        "Your message could not be delivered to the recipients below. The mail system gave up;\r\n"
            + "it will not try again.");
  }

  /**
   * A "delayed" warning listing the {@link RecipientOutcome.Deferred} outcomes: still being retried
   * until {@code retryUntil}. Empty for the null sender or when nothing is deferred.
   */
  public Optional<Bounce> delayed(Original original, List<? extends RecipientOutcome> outcomes, Instant retryUntil)
      throws IOException {
    List<RecipientOutcome> deferred = outcomes.stream()
        .filter(o -> o instanceof RecipientOutcome.Deferred).map(o -> (RecipientOutcome) o).toList();
    return build(original, deferred, Optional.of(retryUntil),
        "Delayed Mail (still being retried)",
        "Your message has not yet been delivered to the recipients below. This is only a warning;\r\n"
            + "the mail system will keep trying until " + date(retryUntil) + ".\r\n"
            + "You do not need to send the message again.");
  }

  private Optional<Bounce> build(Original original, List<RecipientOutcome> listed, Optional<Instant> retryUntil,
      String subject, String intro) throws IOException {
    if (original.mailFrom().isEmpty() || listed.isEmpty()) {
      return Optional.empty();
    }
    try {
      DeliveryStatus status = new DeliveryStatus();
      status.setMessageDSN(perMessage(original));
      StringBuilder text = new StringBuilder("This is the mail system at host " + hostname + ".\r\n\r\n")
          .append(intro).append("\r\n\r\n");
      for (RecipientOutcome o : listed) {
        status.addRecipientDSN(perRecipient(o, retryUntil));
        text.append('<').append(o.recipient()).append(">: ")
            .append(serversWords(o.reply()) ? "host " + o.reply().remoteMta().get() + " said: " : "")
            .append(o.reply().text()).append(" (").append(bounceClass(o.reply())).append(")\r\n");
      }
      MultipartReport report = new ReportWithHeaders(text.toString(), status, originalHeaders(original.message()));

      MimeMessage dsn = new MimeMessage(session) {
        @Override
        protected void updateMessageID() throws MessagingException {
          setHeader("Message-ID", "<" + UUID.randomUUID() + "@" + hostname + ">");
        }
      };
      dsn.setFrom(new InternetAddress("MAILER-DAEMON@" + fromDomain, "Mail Delivery System"));
      InternetAddress to = new InternetAddress();
      to.setAddress(original.mailFrom());
      dsn.setRecipient(MimeMessage.RecipientType.TO, to);
      dsn.setSubject(subject);
      dsn.setSentDate(Date.from(clock.instant()));
      dsn.setHeader("Auto-Submitted", "auto-replied"); // RFC 3834 §5: no automatic reply to this
      dsn.setContent(report);
      dsn.saveChanges(); // our own message: MIME-Version, boundary, Message-ID

      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      dsn.writeTo(new CRLFOutputStream(bytes)); // RFC 5322 §2.3: CRLF only, whatever a part wrote
      return Optional.of(new Bounce(original.mailFrom(), bytes.toByteArray()));
    } catch (MessagingException | UnsupportedEncodingException e) {
      throw new IOException("cannot build DSN for " + original.queueId() + ": " + e.getMessage(), e);
    }
  }

  /** RFC 3464 §2.2: the per-message fields. */
  private InternetHeaders perMessage(Original original) {
    InternetHeaders h = new InternetHeaders();
    h.addHeader("Reporting-MTA", "dns; " + hostname);
    h.addHeader("X-Signet-Queue-ID", original.queueId()); // RFC 3464 §2.2 allows extension fields
    h.addHeader("Arrival-Date", date(original.arrival()));
    return h;
  }

  /** RFC 3464 §2.3: the per-recipient fields. */
  private InternetHeaders perRecipient(RecipientOutcome o, Optional<Instant> retryUntil) {
    InternetHeaders h = new InternetHeaders();
    h.addHeader("Final-Recipient", "rfc822; " + o.recipient());
    h.addHeader("Action", o instanceof RecipientOutcome.Failed ? "failed" : "delayed");
    h.addHeader("Status", o.reply().status());
    // RFC 3464 §2.3: an extension field (the Status stays bare for strict parsers): the class an
    // application can act on; the human-readable part shows it as a comment beside the reply.
    h.addHeader("X-Signet-Bounce-Class", bounceClass(o.reply()));
    Reply reply = o.reply();
    reply.remoteMta().ifPresent(host -> h.addHeader("Remote-MTA", "dns; " + host));
    if (serversWords(reply)) {
      h.addHeader("Diagnostic-Code", "smtp; " + shorten(reply.text()));
    } else {
      // §2.3.6: diagnostic-type names the system that produced the text; here, this relay.
      h.addHeader("Diagnostic-Code", "X-Signet; " + shorten(reply.text()));
    }
    h.addHeader("Last-Attempt-Date", date(clock.instant()));
    retryUntil.ifPresent(until -> h.addHeader("Will-Retry-Until", date(until)));
    return h;
  }

  /** A server's reply as it sent it (starting with its code), rather than a decision taken here. */
  private static boolean serversWords(Reply reply) {
    return reply.remoteMta().isPresent() && reply.text().matches("^\\d{3}.*");
  }

  private String bounceClass(Reply reply) {
    return rules.classify(reply.status(), reply.text()).label();
  }

  /**
   * A multipart/report whose third part is the original's header section byte for byte. Angus's
   * {@code setReturnedMessage} parses the headers and writes them back through a session without
   * UTF-8 support, so the UTF-8 headers of an SMTPUTF8 message (RFC 6532) came out double-encoded
   * ("用户" as "ç¨æ·"); and its saveChanges() would give the original a new Message-ID, which the
   * sender needs to match the DSN to its message. Non-ASCII headers make the part 8bit (RFC 6152).
   */
  private static final class ReportWithHeaders extends MultipartReport {
    ReportWithHeaders(String text, DeliveryStatus status, byte[] headers) throws MessagingException {
      super(text, status);
      MimeBodyPart part = new MimeBodyPart();
      part.setDataHandler(new DataHandler(new ByteArrayDataSource(headers, "text/rfc822-headers")));
      part.setHeader("Content-Type", "text/rfc822-headers");
      boolean ascii = true;
      for (byte b : headers) {
        ascii &= b >= 0;
      }
      part.setHeader("Content-Transfer-Encoding", ascii ? "7bit" : "8bit");
      constructed = false; // MultipartReport takes a third part only through setReturnedMessage
      try {
        addBodyPart(part);
      } finally {
        constructed = true;
      }
    }
  }

  /** The original's header section, up to and including the empty line, for the text/rfc822-headers part. */
  private static byte[] originalHeaders(MessageSource message) throws IOException {
    try (InputStream in = message.open()) {
      byte[] head = in.readNBytes(MAX_HEADER_BYTES);
      return java.util.Arrays.copyOf(head, headerEnd(head));
    }
  }

  /** After the CRLF CRLF that ends the header section; when cut short, after the last whole line. */
  private static int headerEnd(byte[] b) {
    int lastLine = 0;
    for (int i = 0; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        if (i + 3 < b.length && b[i + 2] == '\r' && b[i + 3] == '\n') {
          return i + 4;
        }
        lastLine = i + 2;
      }
    }
    return lastLine;
  }

  private static String shorten(String text) {
    // RFC 5322 §2.1.1: a line is at most 998 octets; leave room for the field name.
    return text.length() <= 900 ? text : text.substring(0, 900) + "...";
  }

  private static String date(Instant instant) {
    return new MailDateFormat().format(Date.from(instant)); // RFC 5322 §3.3 date-time
  }
}
