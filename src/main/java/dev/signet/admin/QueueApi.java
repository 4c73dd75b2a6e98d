package dev.signet.admin;

import dev.signet.admin.AdminServer.Request;
import dev.signet.events.BounceRules;
import dev.signet.queue.Envelope;
import dev.signet.queue.QueueControl;
import dev.signet.queue.QueueCommands;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /api/v1/queue}: list (filters {@code state}, {@code sender}, {@code recipient}, {@code domain};
 * paging {@code offset}, {@code limit}), one message, retry, delete, flush. Reads go to the spool's
 * files; changes to the relay's {@link QueueCommands}, which take each message's lock.
 */
final class QueueApi {
  private static final int MAX_LIMIT = 1000;

  private final Spool spool;
  private final QueueCommands commands;
  private final QueueControl files;
  private final BounceRules rules;

  QueueApi(Spool spool, QueueCommands commands, Path spoolDir, BounceRules rules) {
    this.spool = spool;
    this.commands = commands;
    this.files = QueueControl.of(spoolDir);
    this.rules = rules;
  }

  Object handle(Request r) throws ApiError, IOException, InterruptedException {
    String[] p = r.path();
    if (p.length == 3) {
      if (!r.method().equals("GET")) {
        throw r.wrongMethod("GET");
      }
      return list(r);
    }
    if (p.length == 4 && p[3].equals("flush")) {
      if (!r.method().equals("POST")) {
        throw r.wrongMethod("POST");
      }
      return Map.of("flushed", commands.flush());
    }
    String id = p[3];
    if (p.length == 4) {
      return switch (r.method()) {
        case "GET" -> show(id);
        case "DELETE" -> {
          Envelope deleted = commands.delete(id).orElseThrow(() -> unknown(id));
          yield Map.of("deleted", message(deleted), "result", QueueControl.describeDeleted(deleted));
        }
        default -> throw r.wrongMethod("GET, DELETE");
      };
    }
    if (p.length == 5 && p[4].equals("retry")) {
      if (!r.method().equals("POST")) {
        throw r.wrongMethod("POST");
      }
      if (!commands.retry(id)) {
        throw unknown(id);
      }
      return Map.of("id", id, "result", "retrying " + id);
    }
    throw new ApiError(404, "no such resource: /" + String.join("/", p));
  }

  private static ApiError unknown(String id) {
    return new ApiError(404, "no such message in the queue: " + id);
  }

  private Object list(Request r) throws ApiError, IOException {
    String state = r.query().getOrDefault("state", "").toLowerCase(Locale.ROOT);
    if (!List.of("", "pending", "deferred", "failed").contains(state)) {
      throw new ApiError(400, "state must be pending, deferred or failed, got '" + state + "'");
    }
    String sender = r.query().getOrDefault("sender", "").toLowerCase(Locale.ROOT);
    String recipient = r.query().getOrDefault("recipient", "").toLowerCase(Locale.ROOT);
    String domain = r.query().getOrDefault("domain", "").toLowerCase(Locale.ROOT);
    AdminServer.Paging paging = r.paging(100, MAX_LIMIT);
    List<Envelope> matching = new ArrayList<>();
    for (Envelope e : spool.list()) {
      if (e.sender().toLowerCase(Locale.ROOT).contains(sender)
          && e.recipients().stream().anyMatch(x -> matches(x, state, recipient, domain))) {
        matching.add(e);
      }
    }
    return paging.page(matching, "messages", this::message);
  }

  private static boolean matches(Envelope.Recipient r, String state, String recipient, String domain) {
    String address = r.address().toLowerCase(Locale.ROOT);
    boolean stateOk = switch (state) {
      case "pending" -> r.state() == Envelope.State.PENDING;
      case "deferred" -> r.state() == Envelope.State.PENDING && r.attempts() > 0;
      case "failed" -> r.state() == Envelope.State.FAILED;
      default -> true;
    };
    return stateOk && address.contains(recipient)
        && (domain.isEmpty() || address.substring(address.lastIndexOf('@') + 1).equals(domain));
  }

  private Object show(String id) throws ApiError, IOException {
    Envelope e;
    String headers;
    try {
      e = files.envelope(id);
      headers = files.headers(id);
    } catch (QueueControl.UnknownMessageException x) {
      throw unknown(id);
    }
    Map<String, Object> out = message(e);
    out.put("headers", headers);
    return out;
  }

  /** A message as JSON: the envelope, each recipient with its state, last reply and bounce class. */
  Map<String, Object> message(Envelope e) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", e.id());
    out.put("received", e.received().toString());
    out.put("sender", e.sender());
    out.put("size", e.size());
    out.put("client", e.client());
    out.put("helo", e.helo().orElse(null));
    out.put("auth", e.authUser().orElse(null));
    out.put("signatures", e.signatures());
    List<Object> recipients = new ArrayList<>();
    for (Envelope.Recipient r : e.recipients()) {
      Map<String, Object> rcpt = new LinkedHashMap<>();
      rcpt.put("address", r.address());
      rcpt.put("state", r.state().name().toLowerCase(Locale.ROOT));
      rcpt.put("attempts", r.attempts());
      rcpt.put("next_attempt", r.nextAttempt().map(Instant::toString).orElse(null));
      rcpt.put("last_reply", r.lastReply().isEmpty() ? null : r.lastReply());
      Optional<String> c = QueueControl.bounceClass(r, rules);
      rcpt.put("class", c.orElse(null));
      recipients.add(rcpt);
    }
    out.put("recipients", recipients);
    return out;
  }
}
