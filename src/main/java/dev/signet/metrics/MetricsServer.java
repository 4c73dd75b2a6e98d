package dev.signet.metrics;

import com.sun.net.httpserver.HttpExchange;
import dev.signet.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Serves {@code /metrics} (Prometheus text, or OpenMetrics when the scraper asks for it) and
 * {@code /healthz}: 200 when every registered check passes, 503 naming the failing ones otherwise.
 * Other endpoints of the same port (an admin API) are added with {@link #route}. The listener is an
 * {@link HttpEndpoint}: a virtual thread per exchange and a time limit on reading each request, so
 * that no client can stall the health probe.
 */
public final class MetricsServer implements AutoCloseable {

  /** A named health check: empty = healthy, otherwise the problem. */
  public interface Check extends Supplier<java.util.Optional<String>> {}

  private final Map<String, Check> checks = new LinkedHashMap<>();
  private final HttpEndpoint endpoint;

  private MetricsServer(HostPort listen, Metrics metrics) throws IOException {
    endpoint = HttpEndpoint.start(listen, "metrics-http",
        Map.of("/metrics", exchange -> metrics(exchange, metrics), "/healthz", this::health));
  }

  public static MetricsServer start(HostPort listen, Metrics metrics) throws IOException {
    return new MetricsServer(listen, metrics);
  }

  /** Serves {@code path} (and everything under it) on this port with {@code handler}. */
  public MetricsServer route(String path, com.sun.net.httpserver.HttpHandler handler) {
    endpoint.route(path, handler);
    return this;
  }

  /** Adds a check consulted by {@code /healthz}; register before traffic, checks run at each probe. */
  public synchronized MetricsServer check(String name, Check check) {
    checks.put(name, check);
    return this;
  }

  public int port() {
    return endpoint.address().getPort();
  }

  private void metrics(HttpExchange exchange, Metrics metrics) throws IOException {
    if (!exchange.getRequestURI().getPath().equals("/metrics")) {
      respond(exchange, 404, "text/plain", "not found\n");
      return;
    }
    String accept = exchange.getRequestHeaders().getFirst("Accept");
    boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
    String body = metrics.scrape(openMetrics ? "application/openmetrics-text" : "text/plain");
    respond(exchange, 200, openMetrics
        ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
        : "text/plain; version=0.0.4; charset=utf-8", body);
  }

  private void health(HttpExchange exchange) throws IOException {
    StringBuilder problems = new StringBuilder();
    Map<String, Check> snapshot;
    synchronized (this) {
      snapshot = new LinkedHashMap<>(checks);
    }
    for (Map.Entry<String, Check> check : snapshot.entrySet()) {
      java.util.Optional<String> problem;
      try {
        problem = check.getValue().get();
      } catch (RuntimeException e) {
        problem = java.util.Optional.of(String.valueOf(e));
      }
      problem.ifPresent(p -> problems.append(check.getKey()).append(": ").append(p).append('\n'));
    }
    if (problems.isEmpty()) {
      respond(exchange, 200, "text/plain", "ok\n");
    } else {
      respond(exchange, 503, "text/plain", problems.toString());
    }
  }

  private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
    exchange.close();
  }

  @Override
  public void close() {
    endpoint.close();
  }
}
