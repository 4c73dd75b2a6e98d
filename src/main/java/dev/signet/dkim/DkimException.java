package dev.signet.dkim;

/**
 * A message that cannot be signed, or a key that cannot be used, with the SMTP reply a client
 * should see where signing fails during a submission.
 */
public final class DkimException extends SmtpReplyException {
  public DkimException(int replyCode, String enhancedCode, String message) {
    super(replyCode, enhancedCode, message, null);
  }

  public DkimException(int replyCode, String enhancedCode, String message, Throwable cause) {
    super(replyCode, enhancedCode, message, cause);
  }
}
