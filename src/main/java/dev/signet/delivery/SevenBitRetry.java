package dev.signet.delivery;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 6152 §3: 8-bit mail for a destination where no host offers 8BITMIME goes out once more,
 * converted to 7 bits and signed again ({@link SevenBitConversion}) in a temporary file (mode 0600)
 * that is deleted afterwards.
 */
final class SevenBitRetry {
  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);

  private final SevenBitConversion conversion;

  SevenBitRetry(SevenBitConversion conversion) {
    this.conversion = conversion;
  }

  /**
   * {@code send} given the request for the converted message and its scan; empty, with the reason in
   * {@code skipped} (554 5.6.3), when the message cannot be converted.
   */
  <T> Optional<T> resend(DeliveryRequest request, List<Reply> skipped,
      BiFunction<DeliveryRequest, MessageFile, Optional<T>> send) {
    Path temporary = null;
    try {
      temporary = Files.createTempFile("signet-7bit-", ".eml"); // mode 0600
      try (OutputStream out = Files.newOutputStream(temporary)) {
        conversion.convert(request.message(), out);
      }
      DeliveryRequest sevenBitRequest = new DeliveryRequest(request.id(), request.mailFrom(), request.recipients(),
          temporary);
      MessageFile file = MessageFile.scan(sevenBitRequest.message());
      if (file.eightBit()) {
        throw new IOException("8-bit octets left after the conversion");
      }
      log.info("id={} to={}: no host offers 8BITMIME; sending the message converted to 7 bits and signed again",
          request.id(), request.domain());
      return send.apply(sevenBitRequest, file);
    } catch (IOException e) {
      skipped.add(Reply.local(554, "5.6.3", "message has 8-bit content, no host of " + request.domain()
          + " offers 8BITMIME, and it could not be converted to 7 bits: " + e.getMessage()));
      return Optional.empty();
    } finally {
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException e) {
          log.warn("cannot delete {}: {}", temporary, e.toString());
        }
      }
    }
  }
}
