package dev.signet.message;

import dev.signet.dkim.DkimException;
import dev.signet.dkim.HeaderField;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.Signer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The DKIM-Signature fields at the start of a header block, laid out by {@link Signer#prepare} with
 * placeholder b= values, and what fills them in: {@link #fill} when the message is accepted (the
 * spool fsyncs the message meanwhile, docs/ARCHITECTURE.md "The spool directory"), and
 * {@link #fillStored} at start-up for a queued message whose filled-in values a crash kept off the
 * disk.
 */
public final class Signatures {
  private final Signer.Pending pending;
  private final int length;

  Signatures(Signer.Pending pending, int length) {
    this.pending = pending;
    this.length = length;
  }

  /** Bytes the fields take at the start of the header block. */
  public int length() {
    return length;
  }

  /**
   * Computes the signatures and writes them over their placeholder fields at the start of
   * {@code headerBlock}.
   *
   * @throws MessageException with the reply the client gets (a key that cannot sign, a failed self-check)
   */
  public void fill(byte[] headerBlock) throws MessageException {
    List<String> fields;
    try {
      fields = pending.sign();
    } catch (DkimException e) {
      throw MessageException.of(e);
    }
    int at = 0;
    for (String field : fields) {
      byte[] bytes = field.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(bytes, 0, headerBlock, at, bytes.length);
      at += bytes.length;
    }
    if (at != length) {
      throw new IllegalStateException("signatures took " + at + " bytes of the " + length + " laid out");
    }
  }

  /**
   * Fills in, in place, the placeholder b= values (NUL, {@link Signer#PLACEHOLDER}) left in the
   * header block of a queued message: each leading DKIM-Signature field that holds one is signed
   * again ({@link Signer#complete}) over the fields below this relay's Received field, which is the
   * first field under the signatures. Fields already whole are left as they are.
   *
   * @return how many fields were filled in
   * @throws MessageException naming the problem when a field cannot be filled in (its key is gone,
   *     the block is not one this relay wrote)
   */
  public static int fillStored(byte[] headerBlock, Signer signer, KeyRing keys) throws MessageException {
    List<int[]> spans = fieldSpans(headerBlock);
    int signatures = 0;
    while (signatures < spans.size() && name(headerBlock, spans.get(signatures)).equalsIgnoreCase("DKIM-Signature")) {
      signatures++;
    }
    if (signatures == spans.size() || !name(headerBlock, spans.get(signatures)).equalsIgnoreCase("Received")) {
      throw new MessageException(451, "4.3.0", "no Received field under the DKIM-Signature fields: not a header"
          + " block this relay wrote");
    }
    List<HeaderField> signed = new ArrayList<>();
    for (int[] span : spans.subList(signatures + 1, spans.size())) {
      signed.add(new HeaderField(name(headerBlock, span),
          java.util.Arrays.copyOfRange(headerBlock, span[0], span[1])));
    }
    int filled = 0;
    for (int[] span : spans.subList(0, signatures)) {
      String field = new String(headerBlock, span[0], span[1] - span[0], StandardCharsets.ISO_8859_1);
      if (field.indexOf(Signer.PLACEHOLDER) < 0) {
        continue;
      }
      String done;
      try {
        done = signer.complete(field, signed, keys);
      } catch (DkimException e) {
        throw MessageException.of(e);
      }
      byte[] bytes = done.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(bytes, 0, headerBlock, span[0], bytes.length); // as long as the field: Signer.complete
      filled++;
    }
    return filled;
  }

  /** Start and end (after its CRLF) of each field of a CRLF header block, up to the empty line. */
  private static List<int[]> fieldSpans(byte[] block) {
    List<int[]> spans = new ArrayList<>();
    int pos = 0;
    while (pos < block.length && !(block[pos] == '\r' && pos + 1 < block.length && block[pos + 1] == '\n')) {
      int start = pos;
      do {
        pos = lineEnd(block, pos);
      } while (pos < block.length && (block[pos] == ' ' || block[pos] == '\t'));
      spans.add(new int[] {start, pos});
    }
    return spans;
  }

  private static int lineEnd(byte[] block, int from) {
    for (int i = from; i + 1 < block.length; i++) {
      if (block[i] == '\r' && block[i + 1] == '\n') {
        return i + 2;
      }
    }
    return block.length;
  }

  private static String name(byte[] block, int[] span) {
    int colon = span[0];
    while (colon < span[1] && block[colon] != ':') {
      colon++;
    }
    return new String(block, span[0], colon - span[0], StandardCharsets.ISO_8859_1).strip();
  }
}
