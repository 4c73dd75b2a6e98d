package dev.signet.smtp;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.subethamail.smtp.MessageHandler;

/**
 * One mail transaction (RFC 5321 §3.3): from MAIL to the end of DATA/BDAT or RSET. SubEthaSMTP
 * creates one per MAIL through {@link MessageReceiver}; Signet's own commands fill it in.
 */
final class MailTransaction implements MessageHandler {
  private String sender;
  private boolean smtputf8;
  private final List<String> recipients = new ArrayList<>();

  void mail(String sender, boolean smtputf8) {
    this.sender = sender;
    this.smtputf8 = smtputf8;
  }

  String sender() {
    return sender;
  }

  boolean smtputf8() {
    return smtputf8;
  }

  List<String> recipients() {
    return List.copyOf(recipients);
  }

  @Override
  public void from(String from) {
    this.sender = from;
  }

  @Override
  public void recipient(String recipient) {
    recipients.add(recipient);
  }

  /** Not used: Signet's DATA and BDAT commands hand the data to {@link MessageReceiver} themselves. */
  @Override
  public String data(InputStream data) {
    throw new UnsupportedOperationException("DATA is handled by Signet's DataCommand");
  }

  @Override
  public void done() {
    recipients.clear();
  }
}
