package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.signet.delivery.TestDnsServer;
import dev.signet.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API of a running relay, over real HTTP on loopback, answers checked as JSON. */
class AdminApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern QUEUED = Pattern.compile("queued as (\\S+)");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  private record Answer(int status, JsonNode json, HttpResponse<String> response) {}

  private Answer call(Relay relay, String method, String path, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.adminPort() + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), path);
    return new Answer(r.statusCode(), JSON.readTree(r.body()), r);
  }

  private static void assertError(Answer a, int status, String message) {
    assertEquals(status, a.status(), a.json().toString());
    assertEquals(status, a.json().get("error").get("status").asInt());
    assertTrue(a.json().get("error").get("message").asText().contains(message), a.json().toString());
  }

  @Test
  void queueCanBeListedFilteredPagedShownRetriedDeletedAndFlushed() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    try (TestDnsServer dns = TestDnsServer.start()) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.5"); // nothing listens
      Path config = OpsRig.config(dir, dns, OpsRig.freePort(), "delivery.retry: [1h]");
      try (Relay relay = OpsRig.start(config)) {
        List<String> ids = new ArrayList<>();
        for (String rcpt : List.of("a@dest.test", "b@dest.test", "c@dest.test")) {
          Matcher m = QUEUED.matcher(OpsRig.send(relay.submissionPort(), "app@example.com",
              OpsRig.message("app@example.com", "to " + rcpt), rcpt));
          assertTrue(m.find());
          ids.add(m.group(1));
        }
        Await.await("three deferred", Duration.ofSeconds(30), () -> {
          try {
            return call(relay, "GET", "/api/v1/queue?state=deferred", null).json().get("total").asInt() == 3;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
        Answer all = call(relay, "GET", "/api/v1/queue?limit=2", null);
        assertEquals(200, all.status());
        assertEquals(3, all.json().get("total").asInt());
        assertEquals(2, all.json().get("messages").size());
        assertEquals(1, call(relay, "GET", "/api/v1/queue?offset=2", null).json().get("messages").size());
        Answer b = call(relay, "GET", "/api/v1/queue?recipient=b@dest", null);
        assertEquals(1, b.json().get("total").asInt());
        JsonNode rcpt = b.json().get("messages").get(0).get("recipients").get(0);
        assertEquals("pending", rcpt.get("state").asText());
        assertEquals("connection-failure", rcpt.get("class").asText());
        assertEquals(0, call(relay, "GET", "/api/v1/queue?domain=other.test", null).json().get("total").asInt());

        Answer shown = call(relay, "GET", "/api/v1/queue/" + ids.get(0), null);
        assertEquals(ids.get(0), shown.json().get("id").asText());
        assertTrue(shown.json().get("headers").asText().contains("Subject: to a@dest.test"), shown.json().toString());

        assertEquals(200, call(relay, "POST", "/api/v1/queue/" + ids.get(0) + "/retry", null).status());
        assertError(call(relay, "POST", "/api/v1/queue/0000000000NOSUCH0/retry", null), 404, "no such message");
        Answer deleted = call(relay, "DELETE", "/api/v1/queue/" + ids.get(2), null);
        assertEquals(200, deleted.status());
        assertEquals(ids.get(2), deleted.json().get("deleted").get("id").asText());
        assertError(call(relay, "GET", "/api/v1/queue/" + ids.get(2), null), 404, "no such message");
        assertEquals(2, call(relay, "POST", "/api/v1/queue/flush", null).json().get("flushed").asInt());

        Answer wrong = call(relay, "PUT", "/api/v1/queue/flush", null);
        assertError(wrong, 405, "PUT is not allowed");
        assertEquals("POST", wrong.response().headers().firstValue("Allow").orElse(""));
        assertError(call(relay, "GET", "/api/v1/queue?limit=0", null), 400, "limit must be");
        assertError(call(relay, "GET", "/api/v2/queue", null), 404, "no such resource");
      }
    }
  }

  @Test
  void suppressionsCanBeAddedListedAndRemovedAndEventsReadSinceATime() throws Exception {
    OpsRig.installKey(dir.resolve("keys"), "rsa2048.pem", "example.com", "rsa2048");
    Path config = OpsRig.config(dir, null, OpsRig.freePort(), "delivery.retry: [1h]");
    try (Relay relay = OpsRig.start(config)) {
      Instant before = Instant.now();
      assertTrue(OpsRig.send(relay.submissionPort(), "app@example.com", OpsRig.message("app@example.com", "e"),
          "someone@dest.test").startsWith("250"));
      Answer added = call(relay, "POST", "/api/v1/suppressions",
          "{\"addresses\": [\"x@dest.test\", \"Y@dest.test\"], \"ttl\": \"2h\", \"reason\": \"complaint\"}");
      assertEquals(200, added.status(), added.json().toString());
      assertEquals(2, added.json().get("added").asInt());
      Answer list = call(relay, "GET", "/api/v1/suppressions", null);
      assertEquals(2, list.json().get("total").asInt());
      assertEquals("complaint", call(relay, "GET", "/api/v1/suppressions?address=y@dest.test", null)
          .json().get("reason").asText());
      assertTrue(OpsRig.send(relay.submissionPort(), "app@example.com", OpsRig.message("app@example.com", "s"),
          "y@dest.test").startsWith("550 5.1.1"), "the running relay refuses an address added through the API");
      assertEquals(200, call(relay, "DELETE", "/api/v1/suppressions/x@dest.test", null).status());
      assertError(call(relay, "DELETE", "/api/v1/suppressions/x@dest.test", null), 404, "not suppressed");
      assertError(call(relay, "POST", "/api/v1/suppressions", "{\"address\": \"no-at-sign\"}"), 400, "not an email address");
      assertError(call(relay, "POST", "/api/v1/suppressions", "{nope"), 400, "not valid JSON");

      Answer events = call(relay, "GET", "/api/v1/events?since=" + before, null);
      assertEquals(200, events.status());
      assertTrue(events.json().isArray());
      List<String> types = new ArrayList<>();
      events.json().forEach(e -> types.add(e.get("type").asText() + " " + e.get("recipient").asText()));
      assertTrue(types.contains("accepted someone@dest.test") && types.contains("suppressed y@dest.test"), types.toString());
      assertEquals(0, call(relay, "GET", "/api/v1/events?since=" + Instant.now().plusSeconds(60), null).json().size());
      assertError(call(relay, "GET", "/api/v1/events?since=yesterday", null), 400, "RFC 3339");
    }
  }
}
