package dev.signet.delivery;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A relay's sender refuses to start on a missing or broken CA file or trust anchor, naming the key. */
class DeliverySecurityStartTest {

  @TempDir Path dir;

  private SignetConfig config(Map<String, String> env) throws Exception {
    return SignetConfig.load(Optional.empty(), env);
  }

  @Test
  void aMissingCaFileIsNamed() throws Exception {
    SignetConfig c = config(Map.of("SIGNET_DELIVERY_CA_FILE", dir.resolve("nope.pem").toString(),
        "SIGNET_SPOOL_DIR", dir.resolve("spool").toString()));
    IOException e = assertThrows(IOException.class, () -> new SmtpSender(c).close());
    assertTrue(e.getMessage().startsWith("delivery.ca-file ") && e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void aCaFileWithoutCertificatesIsNamed() throws Exception {
    Path pem = Files.writeString(dir.resolve("roots.pem"), "not a certificate\n");
    SignetConfig c = config(Map.of("SIGNET_DELIVERY_CA_FILE", pem.toString(),
        "SIGNET_SPOOL_DIR", dir.resolve("spool").toString()));
    IOException e = assertThrows(IOException.class, () -> new SmtpSender(c).close());
    assertTrue(e.getMessage().startsWith("delivery.ca-file " + pem), e.getMessage());
  }

  @Test
  void aMissingTrustAnchorIsNamed() throws Exception {
    SignetConfig c = config(Map.of("SIGNET_DELIVERY_DNSSEC_TRUST_ANCHOR", dir.resolve("anchors").toString(),
        "SIGNET_SPOOL_DIR", dir.resolve("spool").toString()));
    IOException e = assertThrows(IOException.class, () -> new SmtpSender(c).close());
    assertTrue(e.getMessage().startsWith("delivery.dnssec.trust-anchor ") && e.getMessage().contains("no such file"),
        e.getMessage());
  }

  @Test
  void theDefaultsStartAndKeepTheMtaStsCacheUnderTheSpool() throws Exception {
    SignetConfig c = config(Map.of("SIGNET_SPOOL_DIR", dir.resolve("spool").toString()));
    new SmtpSender(c).close();
    assertTrue(Files.isDirectory(dir.resolve("spool/mta-sts")));
  }
}
