package dev.signet.dkim;

/**
 * A failure the submitting client sees as an SMTP reply: code, RFC 3463 enhanced code and text,
 * e.g. {@code 550 5.6.0 bare LF in message data (line 3)}. The shape shared by the stages a
 * submission passes through ({@link DkimException} here, the message stage's refusals above); it
 * lives in {@code dkim}, the library at the bottom, because dkim may depend on no other package.
 */
public abstract class SmtpReplyException extends Exception {
  private final int replyCode;
  private final String enhancedCode;

  protected SmtpReplyException(int replyCode, String enhancedCode, String message, Throwable cause) {
    super(message, cause);
    this.replyCode = replyCode;
    this.enhancedCode = enhancedCode;
  }

  public final int replyCode() {
    return replyCode;
  }

  public final String enhancedCode() {
    return enhancedCode;
  }

  /** The reply line as sent to an SMTP client, without CRLF: {@code 451 4.3.5 no DKIM key for example.com}. */
  public final String smtpReply() {
    return replyCode + " " + enhancedCode + " " + getMessage();
  }
}
