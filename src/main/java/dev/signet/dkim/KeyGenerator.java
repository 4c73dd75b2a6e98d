package dev.signet.dkim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Locale;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/** Creates a selector's key file, {@code <keys>/<domain>/<selector>.pem}, for {@code signet keygen}. */
public final class KeyGenerator {
  public static final int DEFAULT_RSA_BITS = 2048;

  private KeyGenerator() {}

  /**
   * Generates a key and writes it as PKCS#8 PEM, mode 0600 from the moment the file exists; the
   * domain directory is created with mode 0700. An existing file is replaced only with
   * {@code force} (atomically: a new 0600 file renamed over it).
   *
   * @param bits the RSA modulus length (1024 to 4096); ignored for Ed25519
   * @return the key as {@link KeyRing} will load it
   * @throws DkimException naming the option or file at fault
   */
  public static SigningKey generate(Path keysDir, String domain, String selector,
      SigningKey.Algorithm algorithm, int bits, boolean force) throws DkimException {
    String d = domain.toLowerCase(Locale.ROOT);
    while (d.endsWith(".")) {
      d = d.substring(0, d.length() - 1);
    }
    if (!KeyRing.isDnsName(d) || !d.contains(".")) {
      throw failure("--domain '" + domain + "' is not a domain name like example.com");
    }
    if (!KeyRing.isDnsName(selector)) {
      throw failure("--selector '" + selector + "' is not a valid selector (DNS labels: letters, digits, hyphens)");
    }
    if (algorithm == SigningKey.Algorithm.RSA_SHA256) {
      RsaKeySigner.checkSize(bits, "--bits " + bits);
    }
    Path file = keysDir.resolve(d).resolve(selector + KeyRing.ACTIVE);
    if (Files.exists(file) && !force) {
      throw failure(file + " already exists; use --force to replace it");
    }
    byte[] pem = pem(algorithm, bits).getBytes(StandardCharsets.US_ASCII);
    try {
      write(file, pem, force);
    } catch (FileAlreadyExistsException e) {
      throw failure(file + " already exists; use --force to replace it");
    } catch (IOException e) {
      throw failure(file + ": cannot write the key: " + e.getMessage());
    }
    return KeyRing.loadKey(file, d, selector);
  }

  static String pem(SigningKey.Algorithm algorithm, int bits) throws DkimException {
    try {
      PrivateKeyInfo info = switch (algorithm) {
        case RSA_SHA256 -> {
          KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
          generator.initialize(bits, new SecureRandom());
          yield PrivateKeyInfo.getInstance(generator.generateKeyPair().getPrivate().getEncoded());
        }
        case ED25519_SHA256 -> {
          Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
          generator.init(new Ed25519KeyGenerationParameters(new SecureRandom()));
          var seed = ((Ed25519PrivateKeyParameters) generator.generateKeyPair().getPrivate()).getEncoded();
          // RFC 8410 §7: OneAsymmetricKey v1 with the 32-byte seed, the form openssl reads and writes.
          yield new PrivateKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), new DEROctetString(seed));
        }
      };
      return PemKeys.pem(info);
    } catch (GeneralSecurityException | IOException e) {
      throw failure("cannot generate a " + algorithm.keyType() + " key: " + e.getMessage());
    }
  }

  /** Never a moment where the key is readable by others: the file is created 0600 (O_EXCL). */
  private static void write(Path file, byte[] content, boolean replace) throws IOException {
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] dirMode = posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
        : new FileAttribute<?>[0];
    FileAttribute<?>[] fileMode = posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
    Files.createDirectories(file.getParent(), dirMode);
    Path target = replace ? file.resolveSibling(file.getFileName() + ".tmp" + System.nanoTime()) : file;
    try (FileChannel channel = FileChannel.open(target, java.util.Set.of(
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), fileMode)) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(target);
      throw e;
    }
    if (replace) {
      try {
        Files.move(target, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        Files.deleteIfExists(target);
        throw e;
      }
    }
  }

  private static DkimException failure(String message) {
    return new DkimException(451, "4.3.5", message);
  }
}
