package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.events.BounceClass;
import dev.signet.events.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeedbackSettingsTest {
  @TempDir Path dir;

  private SignetConfig load(String yaml, Map<String, String> env) throws Exception {
    return ConfigFiles.load(dir, yaml, env);
  }

  @Test
  void defaultsSuppressInvalidRecipientsFor30DaysByRefusing() {
    SignetConfig.Feedback f = SignetConfig.defaults().feedback();
    assertEquals(List.of(), f.events().webhooks());
    assertEquals(Duration.ofHours(24), f.events().maxAge());
    assertEquals(Duration.ofDays(30), f.suppression().ttl());
    assertEquals(SignetConfig.SuppressionAction.REFUSE, f.suppression().action());
    assertEquals(List.of("invalid-recipient"), f.suppression().classes());
  }

  @Test
  void webhooksComeFromTheFileOrTheEnvironment() throws Exception {
    SignetConfig c = load("events:\n  webhooks:\n    - url: https://app.example/hooks/mail\n"
        + "      secret: 0123456789abcdef0123\n      types: [delivered, bounced]\n", Map.of());
    SignetConfig.Webhook w = c.feedback().events().webhooks().get(0);
    assertEquals("https://app.example/hooks/mail", w.url().toString());
    assertEquals(List.of("delivered", "bounced"), w.types());
    SignetConfig e = load("", Map.of("SIGNET_EVENTS_WEBHOOKS", "[{url: 'http://127.0.0.1:8080/h', secret: abcdefghijklmnopq}]"));
    assertEquals(List.of(), e.feedback().events().webhooks().get(0).types());
  }

  @Test
  void badWebhooksAreErrorsNamingTheKey() {
    Exception e = assertThrows(ConfigException.class,
        () -> load("events.webhooks: [{url: 'ftp://x', secret: 0123456789abcdef}]\n", Map.of()));
    assertTrue(e.getMessage().contains("events.webhooks[0].url"), e.getMessage());
    e = assertThrows(ConfigException.class,
        () -> load("events.webhooks: [{url: 'https://x.example/', secret: short}]\n", Map.of()));
    assertTrue(e.getMessage().contains("events.webhooks[0].secret"), e.getMessage());
    e = assertThrows(ConfigException.class,
        () -> load("events.webhooks: [{url: 'https://x.example/', secret: 0123456789abcdef, types: [sent]}]\n", Map.of()));
    assertTrue(e.getMessage().contains("events.webhooks[0].types") && e.getMessage().contains("sent"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> load("suppression.classes: [invalid]\n", Map.of()));
    assertTrue(e.getMessage().contains("suppression.classes"), e.getMessage());
  }

  @Test
  void theConfigKnowsTheEventTypesAndBounceClassesOfTheEventsPackage() {
    assertEquals(Arrays.stream(Event.Type.values()).map(Event.Type::label).collect(Collectors.toSet()),
        FeedbackSettings.EVENT_TYPES);
    assertEquals(Arrays.stream(BounceClass.values()).map(BounceClass::label).collect(Collectors.toSet()),
        FeedbackSettings.BOUNCE_CLASSES);
  }
}
