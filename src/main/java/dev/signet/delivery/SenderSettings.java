package dev.signet.delivery;

import java.time.Duration;
import javax.net.ssl.SSLSocketFactory;

/**
 * Timeouts and connection reuse limits of the SMTP client. The defaults are RFC 5321 §4.5.3.2's
 * minimums; tests shorten them.
 *
 * @param connect TCP connect (RFC 5321 gives none; long enough for a slow far host)
 * @param greeting the 220 greeting (§4.5.3.2.1: 5 minutes), also EHLO, STARTTLS and AUTH replies
 * @param command MAIL and RCPT replies (§4.5.3.2.2/3: 5 minutes); the DATA 354 reply gets the same (§4.5.3.2.4
 *     asks for at least 2 minutes; Angus reads it inside one call, so it inherits the longer MAIL/RCPT value)
 * @param dataBlock each write of the message (§4.5.3.2.5: 3 minutes)
 * @param dataEnd the reply to the final "." (§4.5.3.2.6: 10 minutes)
 * @param reuseIdle how long an idle connection is kept for the next message to the same host
 * @param reuseMessages how many messages one connection carries at most
 * @param smarthostTls TLS towards the smarthost, with the trust anchors to verify it against
 * @param mxTrust the roots that authenticate MX hosts whose TLS policy asks for verification
 */
record SenderSettings(Duration connect, Duration greeting, Duration command, Duration dataBlock,
    Duration dataEnd, Duration reuseIdle, int reuseMessages, SSLSocketFactory smarthostTls, PeerTrust mxTrust) {

  SenderSettings(Duration connect, Duration greeting, Duration command, Duration dataBlock,
      Duration dataEnd, Duration reuseIdle, int reuseMessages, SSLSocketFactory smarthostTls) {
    this(connect, greeting, command, dataBlock, dataEnd, reuseIdle, reuseMessages, smarthostTls, PeerTrust.jdk());
  }

  SenderSettings withMxTrust(PeerTrust trust) {
    return new SenderSettings(connect, greeting, command, dataBlock, dataEnd, reuseIdle, reuseMessages,
        smarthostTls, trust);
  }

  static SenderSettings rfc5321() {
    return new SenderSettings(Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(5),
        Duration.ofMinutes(3), Duration.ofMinutes(10), Duration.ofSeconds(5), 100,
        (SSLSocketFactory) SSLSocketFactory.getDefault());
  }
}
