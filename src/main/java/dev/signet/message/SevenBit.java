package dev.signet.message;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import dev.signet.dkim.SigningKey;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimePart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.angus.mail.util.CRLFOutputStream;

/**
 * RFC 6152 §3 conversion of a signed message with 8-bit content for a server without 8BITMIME: every
 * 8-bit MIME part is re-encoded (text as quoted-printable, anything else as base64, RFC 2045 §6), the
 * old DKIM-Signature fields are dropped, and the result is signed again with the keys the old
 * signatures named, so every signature that leaves verifies. A milter-based signer cannot do this:
 * it does not hold the keys at delivery time; the relay does.
 *
 * <p>Not converted (the delivery then fails with 5.6.3, as without conversion): 8-bit octets in header
 * fields (that is SMTPUTF8, RFC 6532, which cannot be downgraded), in MIME part headers, preambles or
 * epilogues, or inside an attached message (message/rfc822 allows no transfer encoding, RFC 2046 §5.2.1).
 */
public final class SevenBit {
  private static final Pattern TAG = Pattern.compile("(?:^|;)\\s*([ds])\\s*=\\s*([^;\\s]+)");

  private final SignetConfig config;
  private final Signer signer;
  private final Supplier<KeyRing> keys;
  private final Clock clock;

  /**
   * @param config the relay's config (canonicalization, signed fields, expiry of the new signatures)
   * @param keys the keys in force now; a key named by an old signature but since removed does not sign
   */
  public SevenBit(SignetConfig config, Signer signer, Supplier<KeyRing> keys, Clock clock) {
    SignetConfig.Dkim d = config.dkim();
    // A message signed when accepted is signed again; one that went out unsigned stays unsigned.
    SignetConfig.Dkim relay = d.toBuilder().unsigned(SignetConfig.UnsignedPolicy.RELAY).build();
    this.config = config.withDkim(relay);
    this.signer = signer;
    this.keys = keys;
    this.clock = clock;
  }

  /** The 7-bit, signed-again form of the signed message {@code in}. */
  public byte[] convert(InputStream in) throws IOException {
    byte[] original = in.readAllBytes();
    int headerEnd = headerEnd(original);
    List<String[]> signedWith = new ArrayList<>();
    byte[] unsigned = withoutSignatures(original, headerEnd, signedWith);
    byte[] sevenBit;
    try {
      MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(unsigned)) {
        @Override
        protected void updateMessageID() {} // the original's Message-ID stays
      };
      reencode(message);
      message.saveChanges();
      ByteArrayOutputStream out = new ByteArrayOutputStream(original.length * 4 / 3 + 4096);
      message.writeTo(new CRLFOutputStream(out));
      sevenBit = out.toByteArray();
    } catch (MessagingException e) {
      throw new IOException("not convertible MIME: " + e.getMessage(), e);
    }
    List<SigningKey> same = new ArrayList<>();
    for (SigningKey key : keys.get().all()) {
      if (signedWith.stream().anyMatch(ds -> ds[0].equals(key.domain()) && ds[1].equals(key.selector()))) {
        same.add(key);
      }
    }
    if (!signedWith.isEmpty() && same.isEmpty()) {
      throw new IOException("the keys that signed it (" + signedWith.stream().map(ds -> "d=" + ds[0] + " s=" + ds[1])
          .toList() + ") are no longer in dkim.keys, so the converted message could not be signed again");
    }
    try {
      return new Submission(config, signer, author -> same).signGenerated(sevenBit, clock.instant());
    } catch (MessageException e) {
      throw new IOException("signing the converted message failed: " + e.smtpReply(), e);
    }
  }

  /** Re-encodes every 8-bit leaf of {@code part}, descending into multiparts. */
  private static void reencode(MimePart part) throws MessagingException, IOException {
    if (part.isMimeType("multipart/*")) {
      Multipart multipart = (Multipart) part.getContent();
      for (int i = 0; i < multipart.getCount(); i++) {
        reencode((MimePart) multipart.getBodyPart(i));
      }
      part.setContent(multipart); // marks the message modified, so the parts are written anew
      return;
    }
    byte[] raw = rawContent(part);
    if (ascii(raw)) {
      return;
    }
    if (part.isMimeType("message/*")) {
      throw new IOException("8-bit content inside an attached message (" + part.getContentType()
          + ") cannot be re-encoded (RFC 2046 section 5.2.1)");
    }
    byte[] decoded;
    try (InputStream in = ((Part) part).getInputStream()) {
      decoded = in.readAllBytes();
    }
    String type = part.getContentType();
    part.setDataHandler(new DataHandler(new ByteArrayDataSource(decoded, type)));
    part.setHeader("Content-Type", type);
    // RFC 2045 §6.7/§6.8: quoted-printable keeps mostly-ASCII text readable; base64 for the rest.
    part.setHeader("Content-Transfer-Encoding", part.isMimeType("text/*") ? "quoted-printable" : "base64");
  }

  private static byte[] rawContent(MimePart part) throws MessagingException, IOException {
    InputStream in = part instanceof MimeMessage m ? m.getRawInputStream()
        : ((jakarta.mail.internet.MimeBodyPart) part).getRawInputStream();
    try (in) {
      return in.readAllBytes();
    }
  }

  private static boolean ascii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }

  /** Index after the CRLF CRLF ending the header section (the message length if there is none). */
  private static int headerEnd(byte[] b) {
    for (int i = 0; i + 3 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
        return i + 4;
      }
    }
    return b.length;
  }

  /**
   * The message without its DKIM-Signature fields (folded lines included); the d= and s= of each go
   * to {@code signedWith}.
   */
  private static byte[] withoutSignatures(byte[] message, int headerEnd, List<String[]> signedWith) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length);
    int i = 0;
    while (i < headerEnd) {
      int end = i;
      do { // one field: its first line and the continuation lines (RFC 5322 §2.2.3)
        while (end < headerEnd && message[end] != '\n') {
          end++;
        }
        end++;
      } while (end < headerEnd && (message[end] == ' ' || message[end] == '\t'));
      end = Math.min(end, headerEnd);
      String field = new String(message, i, end - i, StandardCharsets.ISO_8859_1);
      if (field.toLowerCase(Locale.ROOT).startsWith("dkim-signature:")) {
        String value = field.substring(field.indexOf(':') + 1).replaceAll("\\s+", " ");
        String d = null;
        String s = null;
        Matcher m = TAG.matcher(value);
        while (m.find()) {
          if (m.group(1).equals("d")) {
            d = m.group(2).toLowerCase(Locale.ROOT);
          } else {
            s = m.group(2);
          }
        }
        if (d != null && s != null) {
          signedWith.add(new String[] {d, s});
        }
      } else {
        out.write(message, i, end - i);
      }
      i = end;
    }
    out.write(message, headerEnd, message.length - headerEnd);
    return out.toByteArray();
  }
}
