package dev.signet.message;

import dev.signet.dkim.DkimException;
import dev.signet.dkim.SmtpReplyException;

/**
 * A submitted message Signet refuses, with the SMTP reply the client sees, e.g.
 * {@code 550 5.6.0 bare LF in message data (line 3)}.
 */
public final class MessageException extends SmtpReplyException {
  public MessageException(int replyCode, String enhancedCode, String message) {
    super(replyCode, enhancedCode, message, null);
  }

  public MessageException(int replyCode, String enhancedCode, String message, Throwable cause) {
    super(replyCode, enhancedCode, message, cause);
  }

  /** A signing failure as the client sees it: the reply the signer chose, the failure as the cause. */
  static MessageException of(DkimException e) {
    return new MessageException(e.replyCode(), e.enhancedCode(), e.getMessage(), e);
  }

  /** RFC 3463 §3.7: 5.6.0 "other or undefined media error" covers data that cannot be relayed as is. */
  static MessageException badContent(String reason) {
    return new MessageException(550, "5.6.0", reason);
  }
}
