package dev.signet.dkim;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The signing keys on disk: {@code <keys>/<domain>/<selector>.pem} (docs/ARCHITECTURE.md, "Keys"). The path
 * names the signing domain (d=) and selector (s=); the PEM holds an RSA or Ed25519 PKCS#8 key.
 * {@code <selector>.pem.retired} marks a key that stays published but no longer signs. Immutable.
 */
public final class KeyRing {
  static final String ACTIVE = ".pem";
  static final String RETIRED = ".pem.retired";
  /** RFC 6376 §3.1 selector = RFC 5321 sub-domain labels (LDH, no leading or trailing hyphen). */
  private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

  private final List<SigningKey> active;
  private final List<SigningKey> retired;

  private KeyRing(List<SigningKey> active, List<SigningKey> retired) {
    this.active = List.copyOf(active);
    this.retired = List.copyOf(retired);
  }

  /**
   * Loads every key under {@code keysDir}. Refuses, naming the file: a key file readable or
   * writable by group or others, a file that is not a PEM private key, an RSA key outside 1024 to
   * 4096 bits, a selector or domain that is not a DNS name.
   */
  public static KeyRing load(Path keysDir) throws DkimException {
    if (!Files.isDirectory(keysDir)) {
      throw failure(keysDir + ": keys directory does not exist (create it, then run signet keygen)");
    }
    List<SigningKey> active = new ArrayList<>();
    List<SigningKey> retired = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(keysDir)) {
      for (Path domainDir : entries) {
        String entry = domainDir.getFileName().toString();
        if (entry.startsWith(".") || !Files.isDirectory(domainDir)) {
          if (entry.endsWith(ACTIVE)) { // a key that would silently never sign
            throw failure(domainDir + ": a key belongs in " + keysDir + "/<domain>/<selector>" + ACTIVE);
          }
          continue; // README and the like
        }
        String domain = entry.toLowerCase(Locale.ROOT);
        if (!isDnsName(domain)) {
          throw failure(domainDir + ": '" + entry + "' is not a domain name; keys go in "
              + keysDir + "/<domain>/<selector>" + ACTIVE);
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(domainDir)) {
          for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(ACTIVE) && Files.isRegularFile(file)) {
              active.add(loadKey(file, domain, name.substring(0, name.length() - ACTIVE.length())));
            } else if (name.endsWith(RETIRED) && Files.isRegularFile(file)) {
              retired.add(loadKey(file, domain, name.substring(0, name.length() - RETIRED.length())));
            }
          }
        }
      }
    } catch (IOException e) {
      throw failure(keysDir + ": cannot read the keys directory: " + e.getMessage());
    }
    Comparator<SigningKey> order = Comparator.comparing(SigningKey::domain).thenComparing(SigningKey::selector);
    active.sort(order);
    retired.sort(order);
    return new KeyRing(active, retired);
  }

  /** One key file: {@code file} is {@code <domain>/<selector>.pem[.retired]}. */
  static SigningKey loadKey(Path file, String domain, String selector) throws DkimException {
    if (!isDnsName(selector)) {
      throw failure(file + ": '" + selector + "' is not a valid selector (DNS labels: letters, digits, hyphens)");
    }
    checkPermissions(file);
    PemKeys.Loaded loaded;
    try {
      loaded = PemKeys.read(file);
    } catch (IOException e) {
      throw failure(file + ": " + e.getMessage());
    }
    SigningKey key = new SigningKey(domain, selector, loaded.algorithm(), loaded.privateKey(), loaded.publicKey(), file);
    if (key.algorithm() == SigningKey.Algorithm.RSA_SHA256) {
      RsaKeySigner.checkSize(key.bits(), file.toString());
    }
    return key;
  }

  /** A private key others can read is a leaked key; one others can write is a forged one. */
  private static void checkPermissions(Path file) throws DkimException {
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      return; // not a POSIX file system: nothing to check
    }
    Set<PosixFilePermission> perms;
    try {
      perms = view.readAttributes().permissions();
    } catch (IOException e) {
      throw failure(file + ": cannot read permissions: " + e.getMessage());
    }
    for (PosixFilePermission p : perms) {
      if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) {
        throw failure(file + ": private key is accessible by group or others ("
            + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "); run: chmod 600 " + file);
      }
    }
  }

  static boolean isDnsName(String name) {
    if (name.isEmpty() || name.length() > 253) {
      return false;
    }
    for (String label : name.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  private static DkimException failure(String message) {
    return new DkimException(451, "4.3.5", message);
  }

  /**
   * The keys that sign mail from {@code authorDomain}: its own keys, or with {@code subdomains}
   * those of the nearest parent domain that has keys (never a single-label name such as a TLD).
   * Empty if none.
   */
  public List<SigningKey> keysFor(String authorDomain, boolean subdomains) {
    String domain = authorDomain.toLowerCase(Locale.ROOT);
    while (domain.endsWith(".")) {
      domain = domain.substring(0, domain.length() - 1);
    }
    while (true) {
      List<SigningKey> found = new ArrayList<>();
      for (SigningKey key : active) {
        if (key.domain().equals(domain)) {
          found.add(key);
        }
      }
      if (!found.isEmpty() || !subdomains) {
        return List.copyOf(found);
      }
      int dot = domain.indexOf('.');
      String parent = dot < 0 ? "" : domain.substring(dot + 1);
      if (!parent.contains(".")) {
        return List.of();
      }
      domain = parent;
    }
  }

  /** The active keys, by domain and selector. */
  public List<SigningKey> all() {
    return active;
  }

  /** Keys renamed to {@code .pem.retired}: still published (for `dns`), never used to sign. */
  public List<SigningKey> retired() {
    return retired;
  }
}
