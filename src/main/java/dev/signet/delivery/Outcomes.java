package dev.signet.delivery;

import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-recipient outcomes a delivery attempt decides without a server's word on each recipient:
 * all deferred or all failed by one reply, the summary when no host took the message, and the one
 * log line per recipient that every attempt ends with.
 */
final class Outcomes {
  private static final Logger log = LoggerFactory.getLogger(SmtpSender.class);

  private Outcomes() {}

  /** Every recipient of {@code request} Deferred with {@code reply}. */
  static List<RecipientOutcome> deferAll(DeliveryRequest request, Reply reply) {
    return request.recipients().stream().<RecipientOutcome>map(r -> new RecipientOutcome.Deferred(r, reply)).toList();
  }

  /** Every recipient of {@code request} Failed with {@code reply}. */
  static List<RecipientOutcome> failAll(DeliveryRequest request, Reply reply) {
    return request.recipients().stream().<RecipientOutcome>map(r -> new RecipientOutcome.Failed(r, reply)).toList();
  }

  /**
   * Every host was skipped. Permanent only if every host refused permanently (5xx greeting); otherwise
   * (connection refused, timeouts, 4xx) retry later. When every host failed the TLS policy
   * ({@code refused}), the outcomes' {@link DeliveryTls} says so.
   */
  static List<RecipientOutcome> noHostTookIt(DeliveryRequest request, List<Reply> skipped, String label,
      Set<Reply> refused) {
    Reply last = skipped.isEmpty()
        ? Reply.local(451, "4.4.4", "no route to " + request.domain())
        : skipped.get(skipped.size() - 1);
    List<String> reasons = skipped.stream().map(Reply::text).toList();
    String text = reasons.size() <= 1 ? last.text() : String.join("; ", reasons);
    Reply summary = new Reply(last.code(), last.status(), text, last.remoteMta());
    boolean permanent = !skipped.isEmpty() && skipped.stream().allMatch(Reply::permanentFailure);
    DeliveryTls tls = new DeliveryTls(label, DeliveryTls.NONE,
        !skipped.isEmpty() && skipped.stream().allMatch(refused::contains));
    return request.recipients().stream().<RecipientOutcome>map(r -> permanent
        ? new RecipientOutcome.Failed(r, summary, tls)
        : new RecipientOutcome.Deferred(r, summary, tls)).toList();
  }

  /**
   * One line per recipient (logger {@code SmtpSender}), with the TLS policy that applied ("none" when
   * no session was tried); at DEBUG for a delivered one, whose delivered event (logger signet.events)
   * says the same. Returns {@code result}.
   */
  static DeliveryResult logged(DeliveryRequest request, String policy, DeliveryResult result) {
    for (RecipientOutcome o : result.outcomes()) {
      String kind = switch (o) {
        case RecipientOutcome.Delivered d -> "delivered";
        case RecipientOutcome.Deferred d -> "deferred";
        case RecipientOutcome.Failed f -> "failed";
      };
      log.atLevel(o instanceof RecipientOutcome.Delivered ? org.slf4j.event.Level.DEBUG : org.slf4j.event.Level.INFO)
          .log("id={} to=<{}> result={} relay={} tls-policy={} status={} reply=\"{}\"", request.id(), o.recipient(),
          kind, o.reply().remoteMta().orElse("none"), policy, o.reply().status(), o.reply().text());
    }
    return result;
  }
}
