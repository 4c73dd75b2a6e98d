package dev.signet.metrics;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Meter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every Signet meter carries a one-line description, which the exposition shows as its HELP text. */
class MetricsHelpTest {

  /** A relay's Metrics with every lazily registered meter touched once. */
  private static Metrics everyMeter() {
    Metrics metrics = new Metrics();
    metrics.signed("rsa-sha256");
    metrics.signed("ed25519-sha256");
    metrics.queueGauges(new Object(), List.of("queued", "deferred"), (o, state) -> 0, o -> 0.0);
    return metrics;
  }

  @Test
  void everySignetMeterHasADescription() {
    List<String> missing = new ArrayList<>();
    int seen = 0;
    for (Meter meter : everyMeter().registry().getMeters()) {
      Meter.Id id = meter.getId();
      if (id.getName().startsWith("signet.")) {
        seen++;
        if (id.getDescription() == null || id.getDescription().isBlank()) {
          missing.add(id.getName() + id.getTags());
        }
      }
    }
    assertTrue(seen >= 10, "expected the relay's meters, saw " + seen);
    assertTrue(missing.isEmpty(), "meters without a description: " + missing);
  }

  @Test
  void everySignetFamilyHasHelpTextInTheExposition() {
    String exposition = everyMeter().scrape(null);
    Matcher type = Pattern.compile("(?m)^# TYPE (signet_\\S+) ").matcher(exposition);
    List<String> families = new ArrayList<>();
    while (type.find()) {
      families.add(type.group(1));
    }
    assertFalse(families.isEmpty(), exposition);
    for (String family : families) {
      Matcher help = Pattern.compile("(?m)^# HELP " + Pattern.quote(family) + " (.*)$").matcher(exposition);
      assertTrue(help.find() && !help.group(1).isBlank(), "no HELP text for " + family + " in:\n" + exposition);
    }
  }
}
