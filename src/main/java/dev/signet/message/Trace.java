package dev.signet.message;

import java.net.InetAddress;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the relay knows about how a message arrived, for its Received field (RFC 5321 §4.4).
 *
 * @param queueId the id that names the message in the spool and in every log line
 * @param helo the EHLO/HELO argument as the client sent it (sanitized before use)
 * @param clientAddress the client's IP address
 * @param authUser the AUTH identity, if the client authenticated
 * @param tls whether the session was under TLS (STARTTLS or implicit)
 * @param received when the DATA was accepted; also the Date added to a message without one
 * @param smtpUtf8 whether the transaction used SMTPUTF8 (MAIL FROM ... SMTPUTF8, RFC 6531)
 */
public record Trace(
    String queueId, String helo, InetAddress clientAddress, Optional<String> authUser, boolean tls, Instant received,
    boolean smtpUtf8) {

  /** A transaction without SMTPUTF8. */
  public Trace(String queueId, String helo, InetAddress clientAddress, Optional<String> authUser, boolean tls,
      Instant received) {
    this(queueId, helo, clientAddress, authUser, tls, received, false);
  }

  public Trace {
    Objects.requireNonNull(queueId, "queueId");
    Objects.requireNonNull(helo, "helo");
    Objects.requireNonNull(clientAddress, "clientAddress");
    Objects.requireNonNull(authUser, "authUser");
    Objects.requireNonNull(received, "received");
  }
}
