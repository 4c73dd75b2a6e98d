package dev.signet.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.signet.config.PrivateFiles;
import dev.signet.config.SignetConfig;
import dev.signet.events.Events;
import dev.signet.metrics.HttpEndpoint;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP admin API on {@code admin.listen} (conf/admin-api.yaml describes it): JSON over HTTP for the
 * queue ({@link QueueApi}), the suppression list and the stored events ({@link FeedbackApi}). Every
 * request needs {@code Authorization: Bearer <admin.token>} when a token is configured; without one,
 * the API runs only on a loopback listener (the config refuses anything else). Errors are
 * {@code {"error": {"status": 404, "message": "..."}}} with the same HTTP status.
 *
 * <p>The address it listens on is written to {@code <spool>/admin} (by rename), so that
 * {@code signet queue} and {@code signet suppression} find a running relay's API; it is removed at
 * {@link #close}.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  /** Request bodies are at most this big (an import of a million addresses is about 30 MB). */
  static final int MAX_BODY = 128 << 20;
  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpEndpoint endpoint;
  private final Path addressFile;

  private AdminServer(HttpEndpoint endpoint, Path addressFile) {
    this.endpoint = endpoint;
    this.addressFile = addressFile;
  }

  /** Starts the API of a running relay. */
  public static AdminServer start(SignetConfig config, Spool spool, Scheduler scheduler, Events events)
      throws IOException {
    return start(config, spool, scheduler, events, InetAddress::isLoopbackAddress);
  }

  /** @param local which listener addresses count as loopback; tests narrow it to 127.0.0.1 */
  static AdminServer start(SignetConfig config, Spool spool, Scheduler scheduler, Events events,
      Predicate<InetAddress> local) throws IOException {
    SignetConfig.Admin settings = config.admin();
    InetAddress bindAddress = InetAddress.getByName(settings.listen().host());
    if (settings.token().isEmpty() && !local.test(bindAddress)) {
      throw new IOException("admin.listen " + settings.listen() + " is not a loopback address and no admin.token is set");
    }
    Path spoolDir = config.spool().dir();
    QueueApi queue = new QueueApi(spool, scheduler.commands(), spoolDir, events.rules());
    FeedbackApi feedback = new FeedbackApi(events, config.feedback().suppression());
    Optional<byte[]> token = settings.token().map(t -> t.getBytes(StandardCharsets.UTF_8));
    HttpEndpoint endpoint = HttpEndpoint.start(settings.listen(), "admin-http",
        Map.of("/", exchange -> handle(exchange, token, queue, feedback)));
    Path addressFile = spoolDir.resolve("admin");
    try {
      publish(addressFile, endpoint, bindAddress);
    } catch (IOException e) {
      endpoint.close();
      throw e;
    }
    log.info("admin API: http://{}:{}/api/v1/ (bearer token {})", settings.listen().host(), endpoint.address().getPort(),
        token.isPresent() ? "required" : "not configured: loopback only");
    return new AdminServer(endpoint, addressFile);
  }

  /** Writes where the CLI reaches this API: the bound port, on loopback when bound to every address. */
  private static void publish(Path file, HttpEndpoint endpoint, InetAddress bound) throws IOException {
    String host = bound.isAnyLocalAddress() ? "127.0.0.1" : bound.getHostAddress();
    String url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + endpoint.address().getPort() + "\n";
    Path tmp = file.resolveSibling("admin.tmp");
    try (FileChannel out = PrivateFiles.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer bytes = ByteBuffer.wrap(url.getBytes(StandardCharsets.US_ASCII));
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  public int port() {
    return endpoint.address().getPort();
  }

  private static void handle(HttpExchange exchange, Optional<byte[]> token, QueueApi queue, FeedbackApi feedback)
      throws IOException {
    try (exchange) {
      Object body;
      int status = 200;
      try {
        authorize(exchange, token);
        Request request = Request.of(exchange);
        if (request.path().length >= 3 && request.path()[0].equals("api") && request.path()[1].equals("v1")) {
          body = switch (request.path()[2]) {
            case "queue" -> queue.handle(request);
            case "suppressions", "events" -> feedback.handle(request);
            default -> throw new ApiError(404, "no such resource: " + exchange.getRequestURI().getPath());
          };
        } else {
          throw new ApiError(404, "no such resource: " + exchange.getRequestURI().getPath()
              + " (the API is under /api/v1/)");
        }
      } catch (ApiError e) {
        status = e.status;
        body = Map.of("error", Map.of("status", e.status, "message", e.getMessage()));
        if (e.status == 401) {
          exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"signet\"");
        }
      } catch (IOException | RuntimeException | InterruptedException e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        log.error("admin API: {} {}: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString());
        status = 500;
        body = Map.of("error", Map.of("status", 500, "message", String.valueOf(e.getMessage())));
      }
      byte[] bytes = body instanceof RawJson raw ? raw.bytes() : JSON.writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Compares the bearer token in constant time. */
  private static void authorize(HttpExchange exchange, Optional<byte[]> token) throws ApiError {
    if (token.isEmpty()) {
      return; // loopback listener without a token (checked at start)
    }
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new ApiError(401, "this API needs Authorization: Bearer <admin.token>");
    }
    byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, token.get())) {
      throw new ApiError(401, "wrong bearer token");
    }
  }

  /** A body that is JSON already (the stored events). */
  record RawJson(byte[] bytes) {}

  /** One request: method, path segments (decoded), query parameters, and the body on demand. */
  record Request(String method, String[] path, Map<String, String> query, HttpExchange exchange) {
    static Request of(HttpExchange exchange) throws ApiError {
      URI uri = exchange.getRequestURI();
      String rawPath = uri.getRawPath();
      String[] raw = rawPath.replaceAll("^/+|/+$", "").split("/+");
      String[] path = new String[raw.length];
      for (int i = 0; i < raw.length; i++) {
        path[i] = decode(raw[i]);
      }
      Map<String, String> query = new LinkedHashMap<>();
      if (uri.getRawQuery() != null) {
        for (String pair : uri.getRawQuery().split("&")) {
          if (!pair.isEmpty()) {
            int eq = pair.indexOf('=');
            query.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
          }
        }
      }
      return new Request(exchange.getRequestMethod(), path, query, exchange);
    }

    private static String decode(String s) throws ApiError {
      try {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new ApiError(400, "bad percent-encoding in '" + s + "'");
      }
    }

    /** The JSON body as a tree (an empty body is an empty object). */
    com.fasterxml.jackson.databind.JsonNode json() throws ApiError, IOException {
      byte[] bytes;
      try (InputStream in = exchange.getRequestBody()) {
        bytes = in.readNBytes(MAX_BODY + 1);
      }
      if (bytes.length > MAX_BODY) {
        throw new ApiError(413, "request body larger than " + MAX_BODY + " bytes");
      }
      if (bytes.length == 0) {
        return JSON.createObjectNode();
      }
      try {
        return JSON.readTree(bytes);
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        throw new ApiError(400, "the body is not valid JSON: " + e.getOriginalMessage());
      }
    }

    int intParam(String name, int fallback, int min, int max) throws ApiError {
      String v = query.get(name);
      if (v == null) {
        return fallback;
      }
      try {
        int n = Integer.parseInt(v);
        if (n >= min && n <= max) {
          return n;
        }
      } catch (NumberFormatException e) {
        // below
      }
      throw new ApiError(400, name + " must be a whole number from " + min + " to " + max + ", got '" + v + "'");
    }

    /** The {@code offset} (default 0) and {@code limit} parameters of a listing. */
    Paging paging(int defaultLimit, int maxLimit) throws ApiError {
      return new Paging(intParam("offset", 0, 0, Integer.MAX_VALUE), intParam("limit", defaultLimit, 1, maxLimit));
    }

    ApiError wrongMethod(String allowed) {
      exchange.getResponseHeaders().set("Allow", allowed);
      return new ApiError(405, method + " is not allowed here (allowed: " + allowed + ")");
    }
  }

  /** Which part of a listing a request asked for. */
  record Paging(int offset, int limit) {
    /** One page of {@code all}: its total, offset and limit, and under {@code name} the items as {@code view} shows each. */
    <T> Map<String, Object> page(List<T> all, String name, Function<T, Object> view) {
      List<Object> page = new ArrayList<>();
      for (int i = offset; i < all.size() && page.size() < limit; i++) {
        page.add(view.apply(all.get(i)));
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("total", all.size());
      out.put("offset", offset);
      out.put("limit", limit);
      out.put(name, page);
      return out;
    }
  }

  /** Stops the listener and removes {@code <spool>/admin}. */
  @Override
  public void close() {
    try {
      Files.deleteIfExists(addressFile);
    } catch (IOException e) {
      log.warn("admin API: cannot remove {}: {}", addressFile, e.getMessage());
    }
    endpoint.close();
  }
}
