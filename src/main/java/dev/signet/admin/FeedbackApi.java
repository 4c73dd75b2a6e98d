package dev.signet.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.admin.AdminServer.RawJson;
import dev.signet.admin.AdminServer.Request;
import dev.signet.config.SignetConfig;
import dev.signet.events.Events;
import dev.signet.events.Suppressions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/v1/suppressions} (list with paging or one address; add one or many; remove) and
 * {@code /api/v1/events?since=} (the events still in the event store, oldest first).
 */
final class FeedbackApi {
  private static final int MAX_EVENTS = 10_000;

  private final Events events;
  private final SignetConfig.Suppression settings;

  FeedbackApi(Events events, SignetConfig.Suppression settings) {
    this.events = events;
    this.settings = settings;
  }

  Object handle(Request r) throws ApiError, IOException {
    String[] p = r.path();
    if (p[2].equals("events")) {
      if (p.length != 3) {
        throw new ApiError(404, "no such resource: /" + String.join("/", p));
      }
      if (!r.method().equals("GET")) {
        throw r.wrongMethod("GET");
      }
      return recentEvents(r);
    }
    if (p.length > 4) {
      throw new ApiError(404, "no such resource: /" + String.join("/", p));
    }
    String address = p.length == 4 ? p[3] : r.query().get("address");
    return switch (r.method()) {
      case "GET" -> address == null ? list(r) : entry(events.suppressions().find(address)
          .orElseThrow(() -> new ApiError(404, "not suppressed: " + address)));
      case "POST" -> add(r);
      case "DELETE" -> {
        if (address == null) {
          throw new ApiError(400, "DELETE needs an address: /api/v1/suppressions/{address} or ?address=");
        }
        if (!events.suppressions().remove(address)) {
          throw new ApiError(404, "not suppressed: " + address);
        }
        yield Map.of("removed", Suppressions.key(address));
      }
      default -> throw r.wrongMethod("GET, POST, DELETE");
    };
  }

  private Object list(Request r) throws ApiError {
    AdminServer.Paging paging = r.paging(1000, 100_000);
    return paging.page(events.suppressions().list(), "suppressions", FeedbackApi::entry);
  }

  private static Map<String, Object> entry(Suppressions.Entry e) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("address", e.address());
    out.put("since", e.since().toString());
    out.put("until", e.until().toString());
    out.put("reason", e.reason());
    return out;
  }

  /** {"address": "a@x"} or {"addresses": [...]}, optional "ttl" ("30d") and "reason". */
  private Object add(Request r) throws ApiError, IOException {
    JsonNode body = r.json();
    if (!body.isObject()) {
      throw new ApiError(400, "expected a JSON object like {\"address\": \"a@example.com\"}");
    }
    List<String> addresses = new ArrayList<>();
    if (body.hasNonNull("address")) {
      addresses.add(body.get("address").asText());
    }
    if (body.has("addresses")) {
      if (!body.get("addresses").isArray()) {
        throw new ApiError(400, "addresses must be an array of strings");
      }
      body.get("addresses").forEach(a -> addresses.add(a.asText()));
    }
    if (addresses.isEmpty()) {
      throw new ApiError(400, "give address or addresses");
    }
    for (String a : addresses) {
      int at = a.lastIndexOf('@');
      if (at <= 0 || at == a.length() - 1 || a.chars().anyMatch(c -> c <= ' ' || c == 127)) {
        throw new ApiError(400, "not an email address: '" + a + "'");
      }
    }
    Duration ttl = settings.ttl();
    if (body.hasNonNull("ttl")) {
      try {
        ttl = SignetConfig.duration(body.get("ttl").asText());
      } catch (IllegalArgumentException e) {
        throw new ApiError(400, "ttl: " + e.getMessage());
      }
    }
    String reason = body.hasNonNull("reason") ? body.get("reason").asText().strip() : "manual";
    if (reason.isEmpty() || reason.contains("\n") || reason.contains("\r")) {
      throw new ApiError(400, "reason must be one non-empty line");
    }
    Instant now = Instant.now();
    List<Suppressions.Entry> entries = new ArrayList<>(addresses.size());
    for (String a : addresses) {
      entries.add(new Suppressions.Entry(a, now, now.plus(ttl), reason));
    }
    events.suppressions().addAll(entries);
    return Map.of("added", entries.size(), "until", now.plus(ttl).toString());
  }

  private Object recentEvents(Request r) throws ApiError, IOException {
    Instant since = Instant.EPOCH;
    String s = r.query().get("since");
    if (s != null) {
      try {
        since = Instant.parse(s);
      } catch (DateTimeParseException e) {
        throw new ApiError(400, "since must be an RFC 3339 time like 2026-12-06T10:00:00Z, got '" + s + "'");
      }
    }
    int limit = r.intParam("limit", 1000, 1, MAX_EVENTS);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write('[');
    boolean first = true;
    for (String json : events.recent(since, limit)) {
      if (!first) {
        out.write(',');
      }
      out.write(json.getBytes(StandardCharsets.UTF_8));
      first = false;
    }
    out.write(']');
    return new RawJson(out.toByteArray());
  }
}
