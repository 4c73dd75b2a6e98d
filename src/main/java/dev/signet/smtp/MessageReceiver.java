package dev.signet.smtp;

import dev.signet.dkim.SignatureTags;
import dev.signet.message.MessageException;
import dev.signet.message.MessageSink;
import dev.signet.message.Prepared;
import dev.signet.message.Signatures;
import dev.signet.message.Submission;
import dev.signet.message.Trace;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Envelope;
import dev.signet.queue.Incoming;
import dev.signet.queue.Spool;
import dev.signet.smtp.BdatChunks.SequenceBroken;
import dev.signet.smtp.MessageInput.TooBig;
import dev.signet.smtp.Users.User;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.MessageHandlerFactory;
import org.subethamail.smtp.server.Session;

/**
 * The end of DATA/BDAT: the message goes through the pipeline (normalize, sign) into the spool,
 * and the reply says what became of it. A 250 only after {@link Spool#accept} returned; any disk
 * trouble is a 451 and leaves nothing in the queue. One log line per message.
 */
final class MessageReceiver implements MessageHandlerFactory {
  private static final Logger log = LoggerFactory.getLogger(MessageReceiver.class);

  private final Submission submission;
  private final Spool spool;
  private final long maxSize;
  private final Metrics metrics;
  private final Clock clock;
  private final SuppressionGate suppression;

  MessageReceiver(Submission submission, Spool spool, long maxSize, Metrics metrics, Clock clock,
      SuppressionGate suppression) {
    this.suppression = suppression;
    this.submission = submission;
    this.spool = spool;
    this.maxSize = maxSize;
    this.metrics = metrics;
    this.clock = clock;
  }

  long maxSize() {
    return maxSize;
  }

  @Override
  public MessageHandler create(MessageContext context) {
    return new MailTransaction();
  }

  /**
   * The reply to a message's data, and what must run once it is sent: the hand-over of an accepted
   * message to the scheduler ({@link Spool#acceptThenHandOn}) and the message's log line. The caller
   * runs it in a {@code finally}.
   */
  record Received(String reply, Runnable afterReply) {}

  /**
   * Receives one message and returns the reply line. The data is always read to its end (or to the
   * end of the current BDAT chunk), so nothing of it can be taken for a command (SMTP smuggling).
   *
   * @throws IOException only when the client's connection failed; there is nobody to reply to
   */
  Received receive(Session session, MailTransaction tx, MessageInput data) throws IOException {
    Instant now = clock.instant();
    Optional<User> user = ClientPolicy.user(session);
    String client = ClientPolicy.client(session).getHostAddress();
    Incoming incoming;
    try {
      incoming = spool.receive();
    } catch (IOException e) {
      data.drain();
      log.error("spool: cannot start a message: {}", e.toString());
      return finish(null, tx, client, user, Optional.empty(),
          "451 4.3.0 Temporary failure writing to the spool, try again later", () -> {});
    }
    MDC.put("qid", incoming.id());
    try {
      return receive(session, tx, data, incoming, user, client, now);
    } finally {
      MDC.remove("qid");
    }
  }

  private Received receive(Session session, MailTransaction tx, MessageInput data, Incoming incoming, Optional<User> user,
      String client, Instant now) throws IOException {
    Prepared prepared = null;
    String reply;
    Runnable handOn = () -> {};
    try (Incoming in = incoming) {
      Trace trace = new Trace(in.id(), session.getHelo().orElse(""), ClientPolicy.client(session),
          user.map(User::name), session.isTLSStarted(), now, tx.smtputf8());
      prepared = submission.prepare(data, trace, sink(in), maxSize);
      data.drain();
      // Every mailbox in From and Sender, not only the one whose domain signs: a second author
      // (From: app@example.com, ceo@victim.test) would otherwise ride on example.com's signature.
      Optional<String> refusal = Optional.empty();
      for (String domain : prepared.mailboxDomains()) {
        refusal = refusal.or(() -> ClientPolicy.domainRefusal(session, domain, "From/Sender"));
      }
      if (refusal.isPresent()) {
        reply = refusal.get(); // known only now; the message is discarded (closing `in`)
      } else {
        Envelope envelope = suppression.failSuppressed(Envelope.received(in.id(), tx.sender(), tx.recipients(),
            client, session.getHelo(), user.map(User::name), now, in.size(),
            prepared.signatures().stream().map(SignatureTags::toString).toList()));
        String messageId = prepared.messageId();
        handOn = spool.acceptThenHandOn(in, envelope, durable -> suppression.accepted(durable, messageId));
        reply = "250 2.0.0 Ok: queued as " + in.id();
      }
    } catch (MessageException e) {
      data.drain();
      reply = e.smtpReply();
    } catch (TooBig e) {
      data.drain();
      reply = "552 5.3.4 Message size exceeds fixed limit of " + maxSize + " bytes";
    } catch (SequenceBroken e) {
      reply = e.getMessage();
    } catch (Unsigned e) {
      reply = e.refusal.smtpReply(); // the data was drained before accept; nothing is queued
    } catch (IOException e) {
      if (data.clientFailed()) {
        log.warn("message from {} abandoned: connection failed during data: {}", client, e.toString());
        metrics.received(Metrics.Received.DEFERRED);
        throw e;
      }
      log.error("spool: cannot write message {}: {}", incoming.id(), e.toString());
      data.drain();
      reply = "451 4.3.0 Temporary failure writing to the spool, try again later";
    }
    return finish(incoming.id(), tx, client, user, Optional.ofNullable(prepared), reply, handOn);
  }

  private static MessageSink sink(Incoming in) {
    return new MessageSink() {
      @Override
      public OutputStream body() {
        return in.body();
      }

      @Override
      public void headers(byte[] headerBlock) throws IOException {
        in.headers(headerBlock);
      }

      @Override
      public void headers(byte[] headerBlock, Signatures signatures) {
        // Filled in by Spool.accept, while the message's fsync runs where it is written alone.
        in.headers(headerBlock, signatures.length(), block -> {
          try {
            signatures.fill(block);
          } catch (MessageException e) {
            throw new Unsigned(e);
          }
        });
      }
    };
  }

  /** The signatures could not be made (the client gets {@code refusal}'s reply); through Spool.accept. */
  private static final class Unsigned extends IOException {
    final MessageException refusal;

    Unsigned(MessageException refusal) {
      super(refusal.getMessage(), refusal);
      this.refusal = refusal;
    }
  }

  /**
   * Counts the message's outcome and returns the reply with what follows it: the hand-over of an
   * accepted message, then the one log line per message (Postfix style: greppable key=value, queue id
   * in the MDC too), written once the client has its reply.
   */
  private Received finish(String id, MailTransaction tx, String client, Optional<User> user, Optional<Prepared> prepared,
      String reply, Runnable handOn) {
    boolean accepted = reply.startsWith("2");
    metrics.received(accepted ? Metrics.Received.ACCEPTED
        : reply.startsWith("4") ? Metrics.Received.DEFERRED : Metrics.Received.REJECTED);
    List<SignatureTags> signatures = prepared.map(Prepared::signatures).orElse(List.of());
    if (accepted) {
      signatures.forEach(s -> metrics.signed(s.algorithm().tag()));
      if (signatures.isEmpty()) {
        metrics.unsigned(Metrics.Unsigned.NO_KEY_RELAYED);
      }
    } else if (reply.startsWith("451 4.3.5")) {
      metrics.unsigned(Metrics.Unsigned.NO_KEY_REFUSED);
    }
    String sender = tx.sender(); // read now: the line is written after the reply, by whoever sends it
    int recipients = tx.recipients().size();
    return new Received(reply, () -> {
      handOn.run();
      if (id != null) {
        MDC.put("qid", id);
      }
      try {
        log.info("message id={} client={} user={} from=<{}> rcpts={} size={} signatures=[{}] result={} reply=\"{}\"",
            id == null ? "-" : id, client, user.map(User::name).orElse("-"), sender, recipients,
            prepared.map(p -> Long.toString(p.size())).orElse("-"),
            signatures.stream().map(SignatureTags::toString).collect(Collectors.joining("; ")),
            accepted ? "accepted" : reply.startsWith("4") ? "deferred" : "rejected", reply);
      } finally {
        MDC.remove("qid");
      }
    });
  }
}
