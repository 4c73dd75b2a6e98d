package dev.signet.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;

/**
 * The one DKIM key set of the tests, committed under src/test/resources/keys/example.com (rsa2048.pem,
 * ed25519.pem; test-only keys, never for real mail), installed into a keys directory with mode 0600:
 * git does not keep file modes, and KeyRing rightly refuses keys that others can read.
 */
public final class TestKeys {
  public static final String DOMAIN = "example.com";
  /** The selector the RSA key is installed under. */
  public static final String RSA = "rsa2026";
  /** The selector the Ed25519 key is installed under. */
  public static final String ED25519 = "ed2026";

  private TestKeys() {}

  /** Writes keys/example.com/{rsa2026,ed2026}.pem under {@code dir} and returns the keys directory. */
  public static Path install(Path dir) throws IOException {
    Path keys = dir.resolve("keys");
    installKey(keys, "rsa2048.pem", DOMAIN, RSA);
    installKey(keys, "ed25519.pem", DOMAIN, ED25519);
    return keys;
  }

  /** Writes the RSA key alone as {@code keys}/example.com/rsa2026.pem and returns {@code keys}. */
  public static Path installRsa(Path keys) throws IOException {
    installKey(keys, "rsa2048.pem", DOMAIN, RSA);
    return keys;
  }

  /** Installs key {@code resource} (under /keys/example.com/) as {@code keys/<domain>/<selector>.pem}, 0600. */
  public static Path installKey(Path keys, String resource, String domain, String selector) throws IOException {
    Path file = keys.resolve(domain).resolve(selector + ".pem");
    Files.createDirectories(file.getParent());
    Files.write(file, resource(resource));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  /** The TXT record a verifier finds for the RSA key ("v=DKIM1; k=rsa; p=..."). */
  public static String rsaRecord() {
    try {
      String pem = new String(resource("rsa2048.pem"), StandardCharsets.US_ASCII);
      byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[^-]+-----", ""));
      KeyFactory rsa = KeyFactory.getInstance("RSA");
      RSAPrivateCrtKey key = (RSAPrivateCrtKey) rsa.generatePrivate(new PKCS8EncodedKeySpec(der));
      byte[] spki = rsa.generatePublic(new RSAPublicKeySpec(key.getModulus(), key.getPublicExponent())).getEncoded();
      return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(spki);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = TestKeys.class.getResourceAsStream("/keys/example.com/" + name)) {
      if (in == null) {
        throw new IOException("missing test key resource /keys/example.com/" + name);
      }
      return in.readAllBytes();
    }
  }
}
