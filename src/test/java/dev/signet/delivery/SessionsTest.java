package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.metrics.Metrics;
import dev.signet.shaping.Destination;
import dev.signet.shaping.Lease;
import dev.signet.shaping.Shaping;
import dev.signet.testkit.ScriptedMx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** New sessions within the group's connections, and what a refused session tells shaping, when. */
class SessionsTest {
  @TempDir Path dir;

  @Test
  void aRefusedGreetingIsReportedWhileTheSessionStillHoldsItsPlace() throws Exception {
    Path file = dir.resolve("shaping.yaml");
    Files.writeString(file, "providers:\n  yahoo:\n    connections: 1\n");
    String greeting = "421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred";
    try (Shaping shaping = Shaping.load(Optional.of(file), Optional.empty(), Clock.systemUTC(), new Metrics());
        ScriptedMx yahoo = ScriptedMx.start("127.0.0.1", 0).reply("GREETING", greeting);
        Sessions sessions = new Sessions("relay.signet.test", DeliveryFixture.fast(null), shaping)) {
      Destination destination = shaping.destination("yahoo.test", List.of("mta5.am0.yahoodns.net"));
      Route route = Route.mx("mta5.am0.yahoodns.net", "127.0.0.1", yahoo.port(), Route.Tls.OPPORTUNISTIC, false, "none");
      List<String> seen = new ArrayList<>();

      SmtpConnection.Unusable thrown = assertThrows(SmtpConnection.Unusable.class,
          () -> sessions.fresh(destination, route, false, e -> {
            // The backoff rules must see the reply before anyone else can open a session in its place.
            Optional<Lease> other = shaping.open(destination);
            seen.add(e.reply().code() + " " + (other.isPresent() ? "place free" : "place held"));
            other.ifPresent(Lease::close);
          }));

      assertEquals(List.of("421 place held"), seen);
      assertEquals(421, thrown.reply().code());
      Optional<Lease> after = shaping.open(destination);
      assertTrue(after.isPresent(), "the place is given back after the report");
      after.get().close();
    }
  }
}
