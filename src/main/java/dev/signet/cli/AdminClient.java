package dev.signet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.signet.config.SignetConfig;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The admin API of the relay running on a spool, for {@code signet queue} and {@code signet
 * suppression}: found through {@code <spool>/admin} (written by the relay at start), with the
 * bearer token of the same config.
 */
final class AdminClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final URI base;
  private final Optional<String> token;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private AdminClient(URI base, Optional<String> token) {
    this.base = base;
    this.token = token;
  }

  /** The running relay's API, or empty when no relay holds the spool's lock. */
  static Optional<AdminClient> ofRunningRelay(SignetConfig config) throws IOException {
    Path spool = config.spool().dir();
    if (!Spool.inUse(spool)) {
      return Optional.empty();
    }
    try {
      String url = Files.readString(spool.resolve("admin"), StandardCharsets.US_ASCII).strip();
      return Optional.of(new AdminClient(URI.create(url + "/api/v1/"), config.admin().token()));
    } catch (NoSuchFileException e) {
      throw new IOException("a relay runs on " + spool + " but has not published its admin API (" + spool.resolve("admin")
          + " is missing); is it still starting?");
    }
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  JsonNode get(String path) throws IOException, InterruptedException {
    return send("GET", path, null);
  }

  JsonNode post(String path, Object body) throws IOException, InterruptedException {
    return send("POST", path, body);
  }

  JsonNode delete(String path) throws IOException, InterruptedException {
    return send("DELETE", path, null);
  }

  /** One request; an error answer becomes an IOException with the API's message. */
  private JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
    URI uri = base.resolve(path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
        .header("Content-Type", "application/json");
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (ConnectException e) {
      throw new IOException("the running relay's admin API at " + base + " does not answer: " + e);
    }
    JsonNode json;
    try {
      json = JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IOException(method + " " + uri + ": HTTP " + response.statusCode() + " with a body that is not JSON");
    }
    if (response.statusCode() / 100 != 2) {
      JsonNode message = json == null ? null : json.path("error").get("message");
      throw new ApiFailure(response.statusCode(), message != null ? message.asText()
          : method + " " + uri + ": HTTP " + response.statusCode());
    }
    return json;
  }

  /** The API refused a request: its HTTP status and message. */
  static final class ApiFailure extends IOException {
    final int status;

    ApiFailure(int status, String message) {
      super(message);
      this.status = status;
    }
  }
}
