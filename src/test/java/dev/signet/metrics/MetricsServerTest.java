package dev.signet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private Metrics metrics;
  private MetricsServer server;

  @BeforeEach
  void start() throws Exception {
    metrics = new Metrics();
    server = MetricsServer.start(new HostPort("127.0.0.1", 0), metrics);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path, String accept) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    if (accept != null) {
      request.header("Accept", accept);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static double sample(String exposition, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(exposition);
    assertTrue(m.find(), "no sample " + series + " in:\n" + exposition);
    return Double.parseDouble(m.group(1));
  }

  /** Connections that send half a request and stop once took both worker threads, and /healthz with them. */
  @Test
  void idleHalfRequestsDoNotStallTheHealthCheck() throws Exception {
    List<java.net.Socket> idle = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        java.net.Socket s = new java.net.Socket("127.0.0.1", server.port());
        s.getOutputStream().write("GET /metrics HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        idle.add(s);
      }
      HttpClient quick = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).build();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
            + "/healthz")).timeout(java.time.Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
      }
    } finally {
      for (java.net.Socket s : idle) {
        s.close();
      }
    }
  }

  @Test
  void countersAppearUnderTheDesignNames() throws Exception {
    metrics.received(Metrics.Received.ACCEPTED);
    metrics.received(Metrics.Received.ACCEPTED);
    metrics.received(Metrics.Received.REJECTED);
    metrics.signed("rsa-sha256");
    metrics.delivered(Metrics.Delivery.BOUNCED, 3);
    metrics.authFailure();
    metrics.sessionOpened();

    HttpResponse<String> response = get("/metrics", null);
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
    String body = response.body();
    assertEquals(2.0, sample(body, "signet_messages_received_total{result=\"accepted\"}"));
    assertEquals(1.0, sample(body, "signet_messages_received_total{result=\"rejected\"}"));
    assertEquals(0.0, sample(body, "signet_messages_received_total{result=\"deferred\"}"));
    assertEquals(1.0, sample(body, "signet_messages_signed_total{algorithm=\"rsa-sha256\"}"));
    assertEquals(3.0, sample(body, "signet_deliveries_total{provider=\"default\",result=\"bounced\"}"));
    assertEquals(1.0, sample(body, "signet_smtp_auth_failures_total"));
    assertEquals(1.0, sample(body, "signet_smtp_sessions_active"));
    assertTrue(body.contains("jvm_memory_used_bytes"), "JVM metrics present");
    assertTrue(body.contains("signet_signing_seconds_bucket"), "signing time is a histogram");
  }

  @Test
  void queueGaugesAreReadAtScrapeTime() throws Exception {
    int[] queued = {4};
    metrics.queueGauges(queued, List.of("queued", "deferred"), (q, state) -> state.equals("queued") ? q[0] : 0,
        q -> 12.5);
    assertEquals(4.0, sample(get("/metrics", null).body(), "signet_queue_messages{state=\"queued\"}"));
    queued[0] = 7;
    String body = get("/metrics", null).body();
    assertEquals(7.0, sample(body, "signet_queue_messages{state=\"queued\"}"));
    assertEquals(12.5, sample(body, "signet_queue_oldest_age_seconds"));
  }

  @Test
  void openMetricsWhenAsked() throws Exception {
    HttpResponse<String> response = get("/metrics", "application/openmetrics-text; version=1.0.0");
    assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/openmetrics-text"));
    assertTrue(response.body().strip().endsWith("# EOF"), "OpenMetrics ends with # EOF");
  }

  @Test
  void unboundedLabelValuesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> metrics.signed("user@example.com"));
  }

  @Test
  void healthFlipsTo503WhenACheckFails() throws Exception {
    AtomicBoolean spoolWritable = new AtomicBoolean(true);
    server.check("spool", () -> spoolWritable.get() ? Optional.empty() : Optional.of("not writable"));
    assertEquals(200, get("/healthz", null).statusCode());
    spoolWritable.set(false);
    HttpResponse<String> down = get("/healthz", null);
    assertEquals(503, down.statusCode());
    assertTrue(down.body().contains("spool: not writable"), down.body());
    spoolWritable.set(true);
    assertEquals(200, get("/healthz", null).statusCode());
  }
}
