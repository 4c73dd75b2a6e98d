package dev.signet.delivery;

import java.nio.file.Path;
import java.util.List;

/**
 * One message to deliver: the envelope and the file holding the signed bytes, sent exactly as stored.
 *
 * @param id the queue id, for log lines
 * @param mailFrom the reverse path without angle brackets; "" is the null sender {@code <>} (bounces)
 * @param recipients forward paths, all of ONE domain unless a smarthost takes everything
 * @param message the signed message (CRLF line endings, as the message stage wrote it)
 */
public record DeliveryRequest(String id, String mailFrom, List<String> recipients, MessageSource message) {
  public DeliveryRequest {
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("a delivery needs at least one recipient");
    }
    recipients = List.copyOf(recipients);
  }

  /** A request for the whole of the file {@code message}. */
  public DeliveryRequest(String id, String mailFrom, List<String> recipients, Path message) {
    this(id, mailFrom, recipients, MessageSource.of(message));
  }

  /** The domain of the recipients (the part after the last '@' of the first one). */
  public String domain() {
    String first = recipients.get(0);
    return first.substring(first.lastIndexOf('@') + 1);
  }

  public boolean nullSender() {
    return mailFrom.isEmpty();
  }
}
