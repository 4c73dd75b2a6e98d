package dev.signet.message;

/**
 * A submitted message Signet refuses, with the SMTP reply the client sees: code, RFC 3463 enhanced
 * code and text, e.g. {@code 550 5.6.0 bare LF in message data (line 3)}.
 */
public final class MessageException extends Exception {
  private final int replyCode;
  private final String enhancedCode;

  public MessageException(int replyCode, String enhancedCode, String message) {
    super(message);
    this.replyCode = replyCode;
    this.enhancedCode = enhancedCode;
  }

  public MessageException(int replyCode, String enhancedCode, String message, Throwable cause) {
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

  /** The reply line as sent to an SMTP client (without CRLF). */
  public String smtpReply() {
    return replyCode + " " + enhancedCode + " " + getMessage();
  }

  /** RFC 3463 §3.7: 5.6.0 "other or undefined media error" covers data that cannot be relayed as is. */
  static MessageException badContent(String reason) {
    return new MessageException(550, "5.6.0", reason);
  }
}
