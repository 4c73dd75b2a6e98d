package dev.signet.message;

import java.util.List;

/**
 * The outcome of {@link Submission#prepare}: what was signed, for logs and metrics.
 *
 * @param authorDomain the domain of the (first) From mailbox, lowercased
 * @param messageId the Message-ID field value, as written in the message or as added
 * @param signatures one {@code d=example.com s=rsa2026 a=rsa-sha256} entry per DKIM-Signature; empty
 *     when the message was relayed unsigned ({@code dkim.unsigned: relay})
 * @param size bytes of the signed message: header block plus body
 */
public record Prepared(String authorDomain, String messageId, List<String> signatures, long size) {
  public Prepared {
    signatures = List.copyOf(signatures);
  }
}
