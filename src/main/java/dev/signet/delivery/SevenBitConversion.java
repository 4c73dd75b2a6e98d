package dev.signet.delivery;

import java.io.IOException;
import java.io.OutputStream;

/**
 * RFC 6152 §3: a message with 8-bit content may go to a server without 8BITMIME only once converted
 * to 7 bits (quoted-printable or base64 parts). Re-encoding changes the signed body, so the conversion
 * signs the result again with the same keys: every signature that leaves verifies. {@link SmtpSender}
 * uses it only when no host of the destination offers 8BITMIME.
 */
@FunctionalInterface
public interface SevenBitConversion {
  /**
   * Writes {@code message} converted to 7 bits and signed again to {@code out}.
   *
   * @throws IOException when it cannot be converted (the reason becomes the failure's text)
   */
  void convert(MessageSource message, OutputStream out) throws IOException;
}
