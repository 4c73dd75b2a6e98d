package dev.signet.testkit;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTPS server for tests (the JDK's HttpsServer) on a free port of 127.0.0.1, presenting a
 * certificate from {@link TestCa}: each path answers with a chosen status, media type and body.
 * Unknown paths get 404. Every POST is kept ({@link #posts}) with its Content-Type and body.
 */
public final class TestHttpsServer implements AutoCloseable {

  /** A POST the server received. */
  public record Post(String path, String contentType, byte[] body) {}

  private record Answer(int status, String contentType, String body, Map<String, String> headers) {}

  private final HttpsServer server;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final List<Post> posts = new CopyOnWriteArrayList<>();

  private TestHttpsServer(HttpsServer server) {
    this.server = server;
  }

  public static TestHttpsServer start(TestCa.Leaf certificate) throws IOException {
    return start(certificate, new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
  }

  /**
   * On {@code address}: a relay fetches MTA-STS policies from port 443 only (RFC 8461 §3.3), so a
   * test of a whole relay binds 443 on an address of 127.0.0.0/8 of its own.
   */
  public static TestHttpsServer start(TestCa.Leaf certificate, InetSocketAddress address) throws IOException {
    HttpsServer server = HttpsServer.create(address, 0);
    server.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
    TestHttpsServer s = new TestHttpsServer(server);
    server.createContext("/", exchange -> {
      s.requests.incrementAndGet();
      if (exchange.getRequestMethod().equals("POST")) {
        try (InputStream in = exchange.getRequestBody()) {
          s.posts.add(new Post(exchange.getRequestURI().getPath(),
              String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")), in.readAllBytes()));
        }
      }
      Answer a = s.answers.get(exchange.getRequestURI().getPath());
      if (a == null) {
        a = new Answer(404, "text/plain", "not found", Map.of());
      }
      byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", a.contentType());
      a.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
      exchange.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return s;
  }

  /** Serve {@code body} at {@code path} with status 200 and {@code contentType}. */
  public TestHttpsServer serve(String path, String contentType, String body) {
    answers.put(path, new Answer(200, contentType, body, Map.of()));
    return this;
  }

  /** Answer {@code path} with {@code status} and extra headers (e.g. a redirect's Location). */
  public TestHttpsServer answer(String path, int status, Map<String, String> headers) {
    answers.put(path, new Answer(status, "text/plain", "", headers));
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The POSTs received so far, in order. */
  public List<Post> posts() {
    return List.copyOf(posts);
  }

  /** Requests served so far. */
  public int requests() {
    return requests.get();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
