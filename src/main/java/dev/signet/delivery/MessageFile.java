package dev.signet.delivery;

import java.io.IOException;
import java.io.InputStream;

/**
 * What the sender must know about a signed message before the MAIL command: its size (RFC 1870 SIZE)
 * and whether it needs 8BITMIME (RFC 6152) or SMTPUTF8 (RFC 6531/6532). Found in one streaming pass.
 *
 * @param eightBit some octet is above 127 (header or body)
 * @param utf8Headers some header octet is above 127: an internationalized message (RFC 6532)
 */
record MessageFile(MessageSource source, long size, boolean eightBit, boolean utf8Headers) {

  static MessageFile scan(MessageSource source) throws IOException {
    long size = 0;
    boolean eightBit = false;
    boolean utf8Headers = false;
    boolean inHeaders = true;
    int last4 = 0; // the last four octets, to find the CRLF CRLF ending the header section
    byte[] buffer = new byte[MessageSource.bufferFor(source.length())];
    try (InputStream in = source.open()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        for (int i = 0; i < n; i++) {
          int b = buffer[i] & 0xff;
          if (b > 127) {
            eightBit = true;
            utf8Headers |= inHeaders;
          }
          if (inHeaders) {
            last4 = (last4 << 8) | b;
            inHeaders = last4 != 0x0d0a0d0a;
          } else if (eightBit) {
            break; // nothing more to learn from the body
          }
        }
        size += n;
      }
    }
    return new MessageFile(source, size, eightBit, utf8Headers);
  }
}
