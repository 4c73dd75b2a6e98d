package dev.signet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The shipped conf/signet.yaml must load and say exactly what the embedded defaults say. */
class ExampleConfigTest {

  @Test
  void shippedExampleEqualsEmbeddedDefaults() throws Exception {
    SignetConfig example = SignetConfig.load(Optional.of(Path.of("conf/signet.yaml")), Map.of());
    SignetConfig defaults = SignetConfig.defaults();
    assertEquals(defaults.listen(), example.listen());
    assertEquals(defaults.clients(), example.clients());
    assertEquals(defaults.limits(), example.limits());
    assertEquals(defaults.message(), example.message());
    assertEquals(defaults.dkim(), example.dkim());
    assertEquals(defaults.spool(), example.spool());
    assertEquals(defaults.delivery(), example.delivery());
    assertEquals(defaults.metrics(), example.metrics());
    assertEquals(defaults.feedback(), example.feedback());
    assertEquals(defaults.admin(), example.admin());
  }
}
