package dev.signet.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.ConfigException;
import dev.signet.config.SignetConfig;
import dev.signet.events.Events;
import dev.signet.metrics.Metrics;
import dev.signet.queue.Scheduler;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bearer token: a listener that is not on loopback needs one. Tests may bind loopback only, so
 * the listener on 127.0.0.2 plays a non-loopback address (only 127.0.0.1 counts as loopback here).
 */
class AdminTokenTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";
  private static final Predicate<InetAddress> ONLY_127_0_0_1 = a -> a.getHostAddress().equals("127.0.0.1");

  @TempDir Path dir;

  private SignetConfig config(String... lines) throws Exception {
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, "spool.dir: " + dir.resolve("spool") + "\n" + String.join("\n", lines) + "\n");
    return SignetConfig.load(Optional.of(file), Map.of());
  }

  private int get(int port, Optional<String> bearer) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.2:" + port + "/api/v1/queue"))
        .timeout(Duration.ofSeconds(10));
    bearer.ifPresent(t -> r.header("Authorization", "Bearer " + t));
    return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void aNonLoopbackListenerRefusesRequestsWithoutTheToken() throws Exception {
    SignetConfig c = config("admin.listen: 127.0.0.2:0", "admin.token: " + TOKEN);
    try (Spool spool = Spool.open(c.spool().dir());
        Events events = Events.start(c, c.spool().dir(), new Metrics().registry(), Clock.systemUTC());
        AdminServer admin = AdminServer.start(c, spool, new Scheduler(c, spool, r -> null, Clock.systemUTC(), dev.signet.queue.QueueListener.NONE),
            events, ONLY_127_0_0_1)) {
      assertEquals(401, get(admin.port(), Optional.empty()));
      assertEquals(401, get(admin.port(), Optional.of("wrong-token-wrong-token")));
      assertEquals(200, get(admin.port(), Optional.of(TOKEN)));
    }
  }

  @Test
  void withoutATokenOnlyALoopbackListenerStarts() throws Exception {
    SignetConfig c = config("admin.listen: 127.0.0.2:0");
    try (Spool spool = Spool.open(c.spool().dir());
        Events events = Events.start(c, c.spool().dir(), new Metrics().registry(), Clock.systemUTC())) {
      IOException e = assertThrows(IOException.class, () -> AdminServer.start(c, spool,
          new Scheduler(c, spool, r -> null, Clock.systemUTC(), dev.signet.queue.QueueListener.NONE), events, ONLY_127_0_0_1));
      assertTrue(e.getMessage().contains("admin.token"), e.getMessage());
    }
    ConfigException config = assertThrows(ConfigException.class, () -> config("admin.listen: 0.0.0.0:9466"));
    assertTrue(config.getMessage().contains("admin.listen") && config.getMessage().contains("admin.token"),
        config.getMessage());
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
    assertEquals(Optional.of(TOKEN), config("admin.listen: 0.0.0.0:9466", "admin.token-file: " + tokenFile).admin().token());
  }
}
