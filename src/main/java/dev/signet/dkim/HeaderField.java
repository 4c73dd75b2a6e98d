package dev.signet.dkim;

import java.nio.charset.StandardCharsets;

/**
 * One header field exactly as it stands in the message: {@code raw} is every byte of it, folding
 * CRLFs included, ending with its final CRLF. {@code name} is the field name as written (case kept).
 * Simple canonicalization signs {@code raw} as is, so it must be the bytes that are transmitted.
 */
public record HeaderField(String name, byte[] raw) {

  /** Builds a field from text such as {@code "Subject: hi\r\n"}; the text must end with CRLF. */
  public static HeaderField of(String field) {
    int colon = field.indexOf(':');
    if (colon <= 0 || !field.endsWith("\r\n")) {
      throw new IllegalArgumentException("not a header field ending in CRLF: " + field);
    }
    return new HeaderField(field.substring(0, colon).strip(), field.getBytes(StandardCharsets.UTF_8));
  }
}
