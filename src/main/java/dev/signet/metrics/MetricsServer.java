package dev.signet.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.signet.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Serves {@code /metrics} (Prometheus text, or OpenMetrics when the scraper asks for it) and
 * {@code /healthz}: 200 when every registered check passes, 503 naming the failing ones otherwise.
 * Other endpoints of the same port (an admin API) are added with {@link #route}.
 *
 * <p>Anyone who can reach the port must not be able to stall it, since a liveness probe that times
 * out restarts the relay: every exchange runs on its own virtual thread, so connections that send
 * half a request and stop hold nothing but themselves, and a request not read in full within
 * {@link #REQUEST_SECONDS} is closed by the JDK server (its {@code sun.net.httpserver.maxReqTime},
 * set here unless the operator set it).
 */
public final class MetricsServer implements AutoCloseable {

  /** A named health check: empty = healthy, otherwise the problem. */
  public interface Check extends Supplier<java.util.Optional<String>> {}

  /** Seconds a client has to send its whole request (headers and body). */
  public static final int REQUEST_SECONDS = 10;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Map<String, Check> checks = new LinkedHashMap<>();

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static MetricsServer start(HostPort listen, Metrics metrics) throws IOException {
    // Read once, when the JDK server's configuration class loads: before the first server is created.
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 64);
    ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("metrics-http-", 0).factory());
    MetricsServer self = new MetricsServer(server, executor);
    server.createContext("/metrics", exchange -> self.metrics(exchange, metrics));
    server.createContext("/healthz", self::health);
    server.setExecutor(executor);
    server.start();
    return self;
  }

  /** Serves {@code path} (and everything under it) on this port with {@code handler}. */
  public MetricsServer route(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(path, handler);
    return this;
  }

  /** Adds a check consulted by {@code /healthz}; register before traffic, checks run at each probe. */
  public synchronized MetricsServer check(String name, Check check) {
    checks.put(name, check);
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
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
    server.stop(0);
    executor.shutdownNow();
  }
}
