package dev.signet.message;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The committed test keys (src/test/resources/message/keys) copied into a keys directory with mode
 * 0600: git does not keep file modes, and KeyRing rightly refuses keys that others can read.
 */
public final class TestKeys {
  public static final String DOMAIN = "example.com";
  public static final String RSA = "rsa2026";
  public static final String ED25519 = "ed2026";

  private TestKeys() {}

  /** Writes keys/example.com/{rsa2026,ed2026}.pem under {@code dir} and returns the keys directory. */
  public static Path install(Path dir) throws IOException {
    Path keys = dir.resolve("keys");
    Path domain = Files.createDirectories(keys.resolve(DOMAIN));
    for (String selector : new String[] {RSA, ED25519}) {
      Path file = domain.resolve(selector + ".pem");
      try (InputStream in = TestKeys.class.getResourceAsStream("/message/keys/" + DOMAIN + "/" + selector + ".pem")) {
        if (in == null) {
          throw new IOException("missing test key resource " + selector);
        }
        Files.write(file, in.readAllBytes());
      }
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
    return keys;
  }
}
