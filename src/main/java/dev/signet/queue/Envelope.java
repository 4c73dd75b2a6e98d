package dev.signet.queue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the relay knows about one spooled message besides its bytes: the SMTP envelope
 * (RFC 5321 §2.3.1), where it came from, and each recipient's delivery state. Written as text
 * ({@link EnvelopeFormat}) at the head of the message's one file, {@code queue/<id>.msg}, when the
 * message is accepted; once a recipient's state changes it is written to {@code queue/<id>.env},
 * renamed over the previous one, and that file then stands in for the copy inside the .msg. Every
 * change is on disk before anything follows from it, so a restart never re-sends to a recipient
 * already delivered. The spool layout: {@link Spool}, and docs/ARCHITECTURE.md, "The spool directory".
 *
 * @param id the queue id
 * @param sender the MAIL FROM address; empty for the null sender {@code <>} (bounces, RFC 5321 §4.5.5)
 * @param recipients the RCPT TO addresses in the order given, each with its delivery state
 * @param client the client's IP address as text
 * @param helo the EHLO/HELO argument, if the client gave one
 * @param authUser the AUTH identity, if the client authenticated
 * @param received when the message was accepted
 * @param size bytes of the spooled (signed) message
 * @param signatures one {@code d=example.com s=rsa2026 a=rsa-sha256} entry per DKIM-Signature
 */
public record Envelope(
    String id,
    String sender,
    List<Recipient> recipients,
    String client,
    Optional<String> helo,
    Optional<String> authUser,
    Instant received,
    long size,
    List<String> signatures) {

  public enum State { PENDING, DELIVERED, FAILED }

  /**
   * One recipient and where its delivery stands.
   *
   * @param attempts delivery attempts made so far
   * @param nextAttempt when to try next (PENDING only; empty = as soon as possible)
   * @param lastReply the last reply or error seen for this recipient; empty before the first attempt
   */
  public record Recipient(String address, State state, int attempts, Optional<Instant> nextAttempt, String lastReply) {
    public Recipient {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(nextAttempt, "nextAttempt");
      Objects.requireNonNull(lastReply, "lastReply");
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts below zero: " + attempts);
      }
    }

    public static Recipient pending(String address) {
      return new Recipient(address, State.PENDING, 0, Optional.empty(), "");
    }

    /** A temporary failure: still pending, one more attempt counted, next try at {@code next}. */
    public Recipient deferred(String reply, Instant next) {
      return new Recipient(address, State.PENDING, attempts + 1, Optional.of(next), reply);
    }

    public Recipient delivered(String reply) {
      return new Recipient(address, State.DELIVERED, attempts + 1, Optional.empty(), reply);
    }

    public Recipient failed(String reply) {
      return new Recipient(address, State.FAILED, attempts + 1, Optional.empty(), reply);
    }
  }

  public Envelope {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(sender, "sender");
    recipients = List.copyOf(recipients);
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(helo, "helo");
    Objects.requireNonNull(authUser, "authUser");
    Objects.requireNonNull(received, "received");
    signatures = List.copyOf(signatures);
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("an envelope needs at least one recipient");
    }
  }

  /** A freshly accepted message: every recipient pending, no attempt made. */
  public static Envelope received(
      String id, String sender, List<String> recipients, String client, Optional<String> helo,
      Optional<String> authUser, Instant received, long size, List<String> signatures) {
    return new Envelope(id, sender, recipients.stream().map(Recipient::pending).toList(), client, helo,
        authUser, received, size, signatures);
  }

  public boolean nullSender() {
    return sender.isEmpty();
  }

  /** True when no recipient is pending: the message can be removed (after any bounce is queued). */
  public boolean finished() {
    return recipients.stream().noneMatch(r -> r.state() == State.PENDING);
  }

  /** This envelope with recipient {@code index} replaced. */
  public Envelope withRecipient(int index, Recipient recipient) {
    List<Recipient> updated = new ArrayList<>(recipients);
    updated.set(index, recipient);
    return new Envelope(id, sender, updated, client, helo, authUser, received, size, signatures);
  }

  /** This envelope with the recipients replaced (same addresses, new states). */
  public Envelope withRecipients(List<Recipient> updated) {
    return new Envelope(id, sender, updated, client, helo, authUser, received, size, signatures);
  }
}
