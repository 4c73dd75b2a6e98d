package dev.signet.delivery;

import java.io.IOException;
import java.io.InputStream;

/**
 * What the sender must know about a signed message before the MAIL command: its size (RFC 1870 SIZE),
 * whether it needs 8BITMIME (RFC 6152) or SMTPUTF8 (RFC 6531/6532), and how many hops it has taken.
 * Found in one streaming pass over the file.
 *
 * @param eightBit some octet is above 127 (header or body)
 * @param utf8Headers some header octet is above 127: an internationalized message (RFC 6532)
 * @param hops the Received fields of the header block (lines starting with "Received:", any case), which
 *     {@link LoopGuard#tooManyHops} holds against the limit
 */
record MessageFile(MessageSource source, long size, boolean eightBit, boolean utf8Headers, int hops) {
  private static final byte[] RECEIVED = {'r', 'e', 'c', 'e', 'i', 'v', 'e', 'd', ':'};

  static MessageFile scan(MessageSource source) throws IOException {
    long size = 0;
    boolean eightBit = false;
    boolean utf8Headers = false;
    boolean inHeaders = true;
    int last4 = 0; // the last four octets, to find the CRLF CRLF ending the header section
    int hops = 0;
    int column = 0; // of the header line being read
    boolean received = true; // the line read so far could start with "Received:"
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
            if (b == '\n') {
              column = 0;
              received = true;
            } else if (received && column < RECEIVED.length) {
              received = (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b) == RECEIVED[column++];
              if (received && column == RECEIVED.length) {
                hops++;
              }
            }
          } else if (eightBit) {
            break; // nothing more to learn from the body
          }
        }
        size += n;
      }
    }
    return new MessageFile(source, size, eightBit, utf8Headers, hops);
  }
}
