package dev.signet.delivery;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Mail-loop protection before delivery (RFC 5321 §6.3): the number of Received fields in the header
 * block says how many hops a message has taken. Postfix refuses a message at {@code hopcount_limit}
 * = 50 Received fields; the submission side refuses at 50 before adding its own, so an accepted
 * message here holds at most {@value #LIMIT}, and more means it was spooled by something else.
 */
final class Hops {
  /** The most Received fields a message may hold when it leaves. */
  static final int LIMIT = 50;

  private Hops() {}

  /** The Received fields of the header block (lines starting with "Received:", any case). */
  static int count(MessageSource source) throws IOException {
    int count = 0;
    byte[] prefix = "received:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    try (InputStream in = new BufferedInputStream(source.open(), 8192)) {
      int column = 0;
      boolean matching = true;
      boolean emptyLine = true;
      for (int b = in.read(); b >= 0; b = in.read()) {
        if (b == '\n') {
          if (emptyLine) {
            break; // RFC 5322 §2.1: the empty line ends the header block
          }
          column = 0;
          matching = true;
          emptyLine = true;
          continue;
        }
        if (b != '\r') {
          emptyLine = false;
        }
        if (matching && column < prefix.length) {
          matching = Character.toLowerCase(b) == prefix[column];
          if (matching && column == prefix.length - 1) {
            count++;
          }
        }
        column++;
      }
    }
    return count;
  }
}
