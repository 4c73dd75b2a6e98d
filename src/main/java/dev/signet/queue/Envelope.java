package dev.signet.queue;

import dev.signet.delivery.Reply;
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
   * @param reply the last reply or decision seen for this recipient, as its fields (code, enhanced
   *     status code, text, the host that replied); empty before the first attempt
   * @param expired true for a recipient FAILED because it was still deferred at the max-age deadline
   *     (its {@code reply} is the last deferral's)
   */
  public record Recipient(String address, State state, int attempts, Optional<Instant> nextAttempt,
      Optional<Reply> reply, boolean expired) {
    private static final String EXPIRED = "expired after ";

    public Recipient {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(nextAttempt, "nextAttempt");
      Objects.requireNonNull(reply, "reply");
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts below zero: " + attempts);
      }
      if (expired && state != State.FAILED) {
        throw new IllegalArgumentException("only a failed recipient can have expired");
      }
    }

    public static Recipient pending(String address) {
      return new Recipient(address, State.PENDING, 0, Optional.empty(), Optional.empty(), false);
    }

    /** A temporary failure: still pending, one more attempt counted, next try at {@code next}. */
    public Recipient deferred(Reply reply, Instant next) {
      return new Recipient(address, State.PENDING, attempts + 1, Optional.of(next), Optional.of(reply), false);
    }

    /** Held back without an attempt (traffic shaping): still pending, no attempt counted, due at {@code until}. */
    public Recipient held(Reply reply, Instant until) {
      return new Recipient(address, State.PENDING, attempts, Optional.of(until), Optional.of(reply), false);
    }

    public Recipient delivered(Reply reply) {
      return new Recipient(address, State.DELIVERED, attempts + 1, Optional.empty(), Optional.of(reply), false);
    }

    public Recipient failed(Reply reply) {
      return new Recipient(address, State.FAILED, attempts + 1, Optional.empty(), Optional.of(reply), false);
    }

    /** Failed because this attempt, too, was deferred and the max-age deadline has passed. */
    public Recipient expiredWith(Reply reply) {
      return new Recipient(address, State.FAILED, attempts + 1, Optional.empty(), Optional.of(reply), true);
    }

    /** Pending and due at {@code when} (flush, retry); anything else unchanged. */
    public Recipient dueAt(Instant when) {
      return state != State.PENDING ? this : new Recipient(address, state, attempts, Optional.of(when), reply, expired);
    }

    /**
     * The last reply as one line for people (queue listings, logs, the admin API): {@link Reply#line},
     * after {@code "expired after N attempts: "} for an expiry; empty before the first attempt. Made
     * from the fields, never read back.
     */
    public String lastReply() {
      if (reply.isEmpty()) {
        return "";
      }
      String line = reply.get().line();
      return expired ? EXPIRED + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + line : line;
    }

    /**
     * The reply this recipient's outcome stands for in a failure report or an event: the last reply,
     * or for an expiry RFC 3463 X.4.7 (delivery time expired) with the whole {@link #lastReply} line
     * as its text, keeping the last server as Remote-MTA.
     */
    public Optional<Reply> outcomeReply() {
      if (!expired || reply.isEmpty()) {
        return reply;
      }
      Reply last = reply.get();
      return Optional.of(new Reply(last.code(), "4.4.7", lastReply(), last.remoteMta()));
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
