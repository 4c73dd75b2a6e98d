package dev.signet.message;

import dev.signet.dkim.SignatureTags;
import java.util.List;

/**
 * The outcome of {@link Submission#prepare}: what was signed, for logs and metrics.
 *
 * @param authorDomain the domain of the (first) From mailbox, lowercased
 * @param mailboxDomains the domains of every mailbox in From and Sender, the author domain first:
 *     an authenticated user must own each of them
 * @param messageId the Message-ID field value, as written in the message or as added
 * @param signatures the d=, s= and a= of each DKIM-Signature added, in order; empty
 *     when the message was relayed unsigned ({@code dkim.unsigned: relay})
 * @param size bytes of the signed message: header block plus body
 */
public record Prepared(String authorDomain, List<String> mailboxDomains, String messageId,
    List<SignatureTags> signatures,
    long size) {
  public Prepared {
    mailboxDomains = List.copyOf(mailboxDomains);
    signatures = List.copyOf(signatures);
  }
}
