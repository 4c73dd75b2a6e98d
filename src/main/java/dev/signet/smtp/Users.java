package dev.signet.smtp;

import dev.signet.config.DomainName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The {@code clients.users} file: one user per line, {@code name:bcrypt-hash:domain1,domain2};
 * blank lines and lines starting with {@code #} are ignored. A user may send only with MAIL FROM and
 * From addresses in its domains.
 */
final class Users {
  /** An authenticated identity and the domains it may send as. */
  record User(String name, Set<String> domains) {
    boolean mayUse(String domain) {
      try {
        return domains.contains(DomainName.ascii(domain));
      } catch (IllegalArgumentException e) {
        return false; // not a domain name at all (an address literal, say): not one of the user's
      }
    }
  }

  private record Entry(User user, String hash) {}

  private static final Pattern NAME = Pattern.compile("[^\\s:]{1,256}");
  // $2a$/$2b$/$2y$, two-digit cost, 53 characters of salt and hash (OpenBSD bcrypt base64).
  private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}");
  /** The cost `signet user add` writes; the dummy's cost when there are no users. */
  static final int DEFAULT_COST = 12;

  private final Map<String, Entry> entries;
  // Checked against when the user is unknown, so a wrong name costs the same time as a wrong password:
  // at the cost most stored hashes use (bcrypt time doubles with each step of the cost).
  private final String dummyHash;

  private Users(Map<String, Entry> entries) {
    this.entries = entries;
    Map<Integer, Long> costs = entries.values().stream()
        .collect(java.util.stream.Collectors.groupingBy(e -> cost(e.hash()), java.util.stream.Collectors.counting()));
    int cost = costs.entrySet().stream().max(Map.Entry.<Integer, Long>comparingByValue()
        .thenComparing(Map.Entry.comparingByKey())).map(Map.Entry::getKey).orElse(DEFAULT_COST);
    byte[] salt = new byte[16];
    new java.security.SecureRandom().nextBytes(salt);
    // Without users there is no AUTH (502), so no dummy to spend start-up time on.
    this.dummyHash = entries.isEmpty() ? null : OpenBSDBCrypt.generate("2b", "dummy".toCharArray(), salt, cost);
  }

  static Users none() {
    return new Users(Map.of());
  }

  /** The log2 work factor of a {@code $2b$NN$...} hash. */
  static int cost(String bcryptHash) {
    return Integer.parseInt(bcryptHash.substring(4, 6));
  }

  /** The cost of the hash an unknown user name is checked against. */
  int dummyCost() {
    return dummyHash == null ? DEFAULT_COST : cost(dummyHash);
  }

  static Users load(Path file) throws IOException {
    Map<String, Entry> entries = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = file + " line " + (n + 1) + ": ";
      String[] parts = line.split(":", -1);
      if (parts.length != 3) {
        throw new IOException(where + "expected name:bcrypt-hash:domain1,domain2");
      }
      if (!NAME.matcher(parts[0]).matches()) {
        throw new IOException(where + "bad user name '" + parts[0] + "'");
      }
      if (!BCRYPT.matcher(parts[1]).matches()) {
        throw new IOException(where + "the password must be a bcrypt hash ($2b$12$...), "
            + "see `signet user add`");
      }
      Set<String> domains;
      try {
        domains = Set.copyOf(domains(List.of(parts[2].split(",", -1)), ""));
      } catch (IllegalArgumentException e) {
        throw new IOException(where + e.getMessage());
      }
      if (entries.put(parts[0], new Entry(new User(parts[0], domains), parts[1])) != null) {
        throw new IOException(where + "user '" + parts[0] + "' is listed twice");
      }
    }
    return new Users(Map.copyOf(entries));
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  int size() {
    return entries.size();
  }

  /** The user if the password matches its bcrypt hash. Takes bcrypt time whether or not the name exists. */
  Optional<User> verify(String name, String password) {
    if (entries.isEmpty()) {
      return Optional.empty();
    }
    Entry entry = entries.get(name);
    char[] secret = password.toCharArray();
    boolean ok = OpenBSDBCrypt.checkPassword(entry == null ? dummyHash : entry.hash(), secret);
    java.util.Arrays.fill(secret, '\0');
    return ok && entry != null ? Optional.of(entry.user()) : Optional.empty();
  }

  /**
   * The domains of a users-file line in their stored form (lowercase A-labels), each checked: an empty
   * entry, {@code *} or anything else that is not a domain name is refused, since a user may send only
   * as the domains listed (there are no wildcards).
   *
   * @param what prefix of the error message naming the argument or line at fault
   */
  static List<String> domains(List<String> given, String what) {
    List<String> out = new java.util.ArrayList<>();
    for (String d : given) {
      String domain = d.strip();
      if (domain.isEmpty()) {
        throw new IllegalArgumentException(what + "empty domain in the list (give domains like example.com,example.org)");
      }
      if (domain.contains("*")) {
        throw new IllegalArgumentException(what + "'" + domain + "': wildcards are not supported; list each domain");
      }
      try {
        String ascii = DomainName.ascii(domain);
        if (!out.contains(ascii)) {
          out.add(ascii);
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(what + e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  /** A users-file line for {@code name}; {@code cost} is bcrypt's log2 work factor. */
  static String line(String name, char[] password, List<String> domains, int cost) {
    byte[] salt = new byte[16];
    new java.security.SecureRandom().nextBytes(salt);
    return name + ":" + OpenBSDBCrypt.generate("2b", password, salt, cost) + ":" + String.join(",", domains);
  }
}
