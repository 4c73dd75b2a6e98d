package dev.signet.message;

import dev.signet.dkim.HeaderField;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The header fields of a message, read line by line up to the empty line that ends them
 * (RFC 5322 §2.1), each kept as the exact bytes that will be transmitted (folding included, CRLF line
 * endings) because simple header canonicalization signs them as they stand.
 */
final class HeaderBlock {
  /** Headers are held in memory to be signed; a larger block than this is refused (bounded memory). */
  static final int MAX_BYTES = 1024 * 1024;
  /**
   * The most header fields accepted. Each costs an object besides its bytes: 250 000 empty "X:" fields
   * (1 MB) held 25 MB of heap per session. Gmail refuses more than 5 000 fields (and 500 KB of header);
   * Postfix bounds each field to header_size_limit (102 400 bytes). Real messages carry a few dozen
   * fields, so 1 000 leaves ample room and bounds a session's header at 1 MB plus 1 000 small objects.
   */
  static final int MAX_FIELDS = 1000;

  private static final byte[] CRLF = {'\r', '\n'};

  private final List<HeaderField> fields;

  private HeaderBlock(List<HeaderField> fields) {
    this.fields = List.copyOf(fields);
  }

  /**
   * Reads header lines from {@code lines} up to and including the empty line; afterwards the reader
   * stands at the first body line. Data that ends inside the header block is a message without body.
   */
  static HeaderBlock read(LineReader lines) throws IOException, MessageException {
    List<HeaderField> fields = new ArrayList<>();
    ByteArrayOutputStream current = new ByteArrayOutputStream();
    String name = null;
    long total = 0;
    while (lines.next()) {
      if (lines.length() == 0) {
        break; // RFC 5322 §2.1: the empty line separates header and body
      }
      total += lines.length() + 2;
      if (total > MAX_BYTES) {
        throw new MessageException(552, "5.3.4", "header block larger than " + MAX_BYTES + " bytes");
      }
      if (lines.startsWithWsp()) {
        // RFC 5322 §2.2.3: a line starting with WSP continues the field above (folding).
        if (name == null) {
          throw MessageException.badContent("malformed header: line 1 is a continuation line (starts with whitespace)");
        }
        current.write(lines.bytes(), 0, lines.length());
      } else {
        if (name != null) {
          fields.add(new HeaderField(name, current.toByteArray()));
          current.reset();
        }
        if (fields.size() >= MAX_FIELDS) {
          throw new MessageException(552, "5.3.4", "too many header fields (limit " + MAX_FIELDS + ")");
        }
        name = fieldName(lines);
        // RFC 5322 §4.5 (obs-optional, and the obs- form of each field) allows WSP before the colon,
        // "Subject  :  x"; §4 says obsolete syntax must not be generated. Verifiers disagree on it
        // (dkimpy cannot parse such a header block, so every signature over it failed there), so the
        // name is rewritten to "Subject:" before signing; the value after the colon is kept byte for
        // byte. Refusing the message instead would bounce mail over a detail fixed without loss.
        current.write(lines.bytes(), 0, name.length());
        int colon = name.length();
        while (lines.bytes()[colon] != ':') {
          colon++;
        }
        current.write(lines.bytes(), colon, lines.length() - colon);
      }
      current.write(CRLF); // also for a last line without one: the transmitted form ends in CRLF
    }
    if (name != null) {
      fields.add(new HeaderField(name, current.toByteArray()));
    }
    return new HeaderBlock(fields);
  }

  /** RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII except colon), then ":". */
  private static String fieldName(LineReader lines) throws MessageException {
    byte[] b = lines.bytes();
    int colon = -1;
    for (int i = 0; i < lines.length(); i++) {
      if (b[i] == ':') {
        colon = i;
        break;
      }
    }
    // RFC 5322 §4.5 (obs-optional): whitespace may stand between the name and the colon.
    int end = colon;
    while (end > 0 && (b[end - 1] == ' ' || b[end - 1] == '\t')) {
      end--;
    }
    if (colon < 0 || end == 0) {
      throw MessageException.badContent("malformed header on line " + lines.lineNumber()
          + ": expected 'Name: value' before the empty line that ends the header block");
    }
    for (int i = 0; i < end; i++) {
      if (b[i] < 33 || b[i] > 126) {
        throw MessageException.badContent("malformed header on line " + lines.lineNumber()
            + ": invalid character in field name");
      }
    }
    return new String(b, 0, end, StandardCharsets.US_ASCII);
  }

  List<HeaderField> fields() {
    return fields;
  }

  List<HeaderField> named(String name) {
    return fields.stream().filter(f -> f.name().equalsIgnoreCase(name)).toList();
  }

  /** The unfolded value of the first field called {@code name} (RFC 5322 §2.2.3), trimmed. */
  Optional<String> value(String name) {
    return named(name).stream().findFirst().map(HeaderBlock::valueOf);
  }

  /** A field's body: after the colon, CRLFs of folding removed, decoded as UTF-8 (RFC 6532). */
  static String valueOf(HeaderField field) {
    String text = new String(field.raw(), StandardCharsets.UTF_8);
    return text.substring(text.indexOf(':') + 1).replace("\r\n", "").strip();
  }
}
