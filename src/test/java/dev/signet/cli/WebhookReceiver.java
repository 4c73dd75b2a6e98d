package dev.signet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An application's webhook endpoint on loopback, as the README tells one to write it: it checks the
 * Signet-Signature HMAC over "t.body" with the shared secret (answering 401 when it does not match),
 * parses the body as a JSON array with an outside parser (Jackson) and keeps every event.
 */
final class WebhookReceiver implements AutoCloseable {
  private final HttpServer server;
  final List<JsonNode> events = new CopyOnWriteArrayList<>();
  final AtomicInteger posts = new AtomicInteger();
  final AtomicInteger badSignatures = new AtomicInteger();

  private WebhookReceiver(HttpServer server) {
    this.server = server;
  }

  /** Listens on 127.0.0.1:{@code port} (0 = any free port). */
  static WebhookReceiver start(int port, String secret) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 0);
    WebhookReceiver receiver = new WebhookReceiver(server);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/hook", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      receiver.posts.incrementAndGet();
      String header = exchange.getRequestHeaders().getFirst("Signet-Signature");
      int status = 204;
      if (header == null || !valid(secret, header, body)) {
        receiver.badSignatures.incrementAndGet();
        status = 401;
      } else {
        for (JsonNode e : new ObjectMapper().readTree(body)) {
          receiver.events.add(e);
        }
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
    return receiver;
  }

  private static boolean valid(String secret, String header, byte[] body) {
    String t = null;
    String v1 = null;
    for (String part : header.split(",")) {
      if (part.startsWith("t=")) {
        t = part.substring(2);
      } else if (part.startsWith("v1=")) {
        v1 = part.substring(3);
      }
    }
    if (t == null || v1 == null || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(t)) > 300) {
      return false;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((t + ".").getBytes(StandardCharsets.UTF_8));
      return MessageDigest.isEqual(HexFormat.of().parseHex(v1), mac.doFinal(body));
    } catch (Exception e) {
      return false;
    }
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** The events of {@code type} about {@code recipient}. */
  List<JsonNode> of(String type, String recipient) {
    return events.stream().filter(e -> e.get("type").asText().equals(type)
        && e.get("recipient").asText().equals(recipient)).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
