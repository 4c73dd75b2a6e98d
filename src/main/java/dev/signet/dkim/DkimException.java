package dev.signet.dkim;

/**
 * A message that cannot be signed, or a key that cannot be used. Carries the SMTP reply a client
 * should see (code, RFC 3463 enhanced code, text) where signing fails during a submission.
 */
public final class DkimException extends Exception {
  private final int replyCode;
  private final String enhancedCode;

  public DkimException(int replyCode, String enhancedCode, String message) {
    super(message);
    this.replyCode = replyCode;
    this.enhancedCode = enhancedCode;
  }

  public DkimException(int replyCode, String enhancedCode, String message, Throwable cause) {
    super(message, cause);
    this.replyCode = replyCode;
    this.enhancedCode = enhancedCode;
  }

  public int replyCode() {
    return replyCode;
  }

  public String enhancedCode() {
    return enhancedCode;
  }

  /** The reply line as sent to an SMTP client, e.g. {@code 550 5.7.1 no DKIM key for example.com}. */
  public String smtpReply() {
    return replyCode + " " + enhancedCode + " " + getMessage();
  }
}
