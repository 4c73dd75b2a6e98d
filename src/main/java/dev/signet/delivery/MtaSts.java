package dev.signet.delivery;

import dev.signet.config.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MTA-STS discovery for recipient domains (RFC 8461 §3, §5): the {@code _mta-sts} TXT record says
 * whether a domain has a policy and which version ({@code id}); the policy itself is fetched over
 * HTTPS ({@link PolicyFetcher}) only when the id changed or the cached copy ran out, and kept in a
 * cache that lives on disk under the spool directory, so a restart does not reopen the window a
 * policy closes (§5: a cached policy holds until max_age even when DNS or the policy host fail).
 *
 * <p>Each cache file {@code <dir>/<domain>} holds the id, the fetch time and the policy text as
 * fetched; it is replaced by write, fsync, rename. Thread-safe; fetches for one domain are serialized.
 */
final class MtaSts {

  private static final Logger log = LoggerFactory.getLogger(MtaSts.class);

  /** The cache directory under spool.dir. */
  static final String DIR = "mta-sts";
  /** How often cached policies are checked for a new id or a half-spent max_age. */
  static final Duration REFRESH = Duration.ofHours(1);
  /** §3.3: connect and read timeouts of the policy fetch. */
  static final Duration FETCH_TIMEOUT = Duration.ofSeconds(30);

  /** MTA-STS for a relay with {@code delivery}: empty when delivery.mta-sts is off. */
  static Optional<MtaSts> forRelay(dev.signet.config.SignetConfig.Delivery delivery, Path dir, PeerTrust trust)
      throws IOException {
    if (delivery.mtaSts() == dev.signet.config.SignetConfig.MtaStsMode.OFF) {
      return Optional.empty();
    }
    MtaStsDns dns = new MtaStsDns(delivery.dns(), MxResolver.Settings.DEFAULT);
    PolicyFetcher fetcher = new PolicyFetcher(trust, dns::addresses, 443, FETCH_TIMEOUT);
    try {
      return Optional.of(new MtaSts(dns::txt, fetcher, dir, Clock.systemUTC()));
    } catch (IOException e) {
      throw new IOException("MTA-STS policy cache " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A policy in force for a domain, with the id it was published under. */
  record Applied(String domain, String id, MtaStsPolicy policy, Instant fetched) {
    Instant expires() {
      return fetched.plusSeconds(policy.maxAgeSeconds());
    }
  }

  /** What the TXT lookup found. */
  sealed interface Txt {
    record Found(String id) implements Txt {}

    /** No record, or not one valid STSv1 record (§3.1: several = none). */
    record Absent(String why) implements Txt {}

    /** DNS failed (SERVFAIL, timeout): keep whatever is cached. */
    record Failed(String why) implements Txt {}
  }

  private final Function<String, Txt> txt;
  private final PolicyFetcher fetcher;
  private final Path dir;
  private final Clock clock;
  private final Map<String, Applied> cache = new ConcurrentHashMap<>();
  /** Fetches that failed, by domain: not tried again for the same id before {@link #RETRY_FETCH} passed. */
  private final Map<String, Failed> failed = new ConcurrentHashMap<>();

  /** @param resultType what failed, as an RFC 8460 §4.3.2.2 result type (for TLS reports) */
  private record Failed(String id, Instant until, String resultType) {}

  /**
   * How long a failed fetch is not repeated for the same id: a domain whose policy host is down must
   * not cost every delivery attempt a connect timeout.
   */
  static final Duration RETRY_FETCH = Duration.ofMinutes(5);
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /**
   * @param txt the {@code _mta-sts.<domain>} TXT lookup through {@code delivery.dns}
   * @param dir the cache directory (created if missing); its policies are loaded now
   */
  MtaSts(Function<String, Txt> txt, PolicyFetcher fetcher, Path dir, Clock clock) throws IOException {
    this.txt = txt;
    this.fetcher = fetcher;
    this.dir = PrivateFiles.directory(dir);
    this.clock = clock;
    load();
  }

  /**
   * The policy that applies to mail for {@code domain} now, if any (§5.1). May fetch (HTTPS) when
   * the published id differs from the cached one or nothing valid is cached.
   */
  Optional<Applied> policy(String domain) {
    String d = domain.toLowerCase(Locale.ROOT);
    if (d.isEmpty() || d.startsWith(".") || d.startsWith("[") || d.contains("/") || d.contains("\\")) {
      return Optional.empty(); // an address literal or no DNS name: nothing to look up (nor a safe file name)
    }
    Applied cached = valid(d);
    Txt record = txt.apply(d);
    if (record instanceof Txt.Absent) {
      failed.remove(d); // no policy published any more: nothing failed to fetch
    }
    if (!(record instanceof Txt.Found found)) {
      // §5.1: with no TXT record (or DNS failing) a cached, unexpired policy still applies.
      return Optional.ofNullable(cached);
    }
    if (cached != null && cached.id().equals(found.id())) {
      return Optional.of(cached);
    }
    Failed recent = failed.get(d);
    if (recent != null && recent.id().equals(found.id()) && recent.until().isAfter(clock.instant())) {
      return Optional.ofNullable(cached); // fetched in vain a moment ago
    }
    return refresh(d, found.id());
  }

  /**
   * Fetches {@code domain}'s policy published as {@code id} and caches it; on failure keeps the
   * cached one (§5.1: "continue to use the previously cached policy").
   */
  private Optional<Applied> refresh(String domain, String id) {
    ReentrantLock lock = locks.computeIfAbsent(domain, k -> new ReentrantLock());
    lock.lock();
    try {
      Applied cached = valid(domain);
      if (cached != null && cached.id().equals(id) && !halfSpent(cached)) {
        return Optional.of(cached); // another thread fetched it meanwhile
      }
      String text;
      MtaStsPolicy policy;
      try {
        text = fetcher.fetch(domain);
        policy = MtaStsPolicy.parse(text);
      } catch (PolicyFetcher.Failure e) {
        failed.put(domain, new Failed(id, clock.instant().plus(RETRY_FETCH), e.resultType));
        log.warn("mta-sts domain={} id={} fetch failed ({}): {}{}", domain, id, e.resultType, e.getMessage(),
            cached == null ? "" : "; keeping the cached policy id=" + cached.id());
        return Optional.ofNullable(cached);
      } catch (MtaStsPolicy.Invalid e) {
        failed.put(domain, new Failed(id, clock.instant().plus(RETRY_FETCH), "sts-policy-invalid"));
        log.warn("mta-sts domain={} id={} policy invalid (sts-policy-invalid): {}{}", domain, id, e.getMessage(),
            cached == null ? "" : "; keeping the cached policy id=" + cached.id());
        return Optional.ofNullable(cached);
      }
      if (policy.mode() == MtaStsPolicy.Mode.NONE) {
        // §5: mode none = the domain withdraws its policy; forget the cached one.
        forget(domain);
        log.info("mta-sts domain={} id={} mode=none: policy dropped", domain, id);
        return Optional.empty();
      }
      failed.remove(domain);
      Applied applied = new Applied(domain, id, policy, clock.instant());
      store(applied, text);
      log.info("mta-sts domain={} id={} mode={} mx={} max_age={} fetched", domain, id,
          policy.mode().name().toLowerCase(Locale.ROOT), String.join(",", policy.mx()), policy.maxAgeSeconds());
      return Optional.of(applied);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Background refresh (§5.1: refresh before expiry): for each cached domain whose policy is half
   * spent or whose published id changed, fetch again; failures keep the cached policy.
   */
  void refreshDue() {
    for (Applied cached : List.copyOf(cache.values())) {
      Txt record = txt.apply(cached.domain());
      if (record instanceof Txt.Found found && (!found.id().equals(cached.id()) || halfSpent(cached))) {
        refresh(cached.domain(), found.id());
      }
    }
    cache.values().removeIf(a -> !a.expires().isAfter(clock.instant()));
  }

  /** How many cached, unexpired policies there are per mode, for {@code signet_mta_sts_policies{mode}}. */
  Map<MtaStsPolicy.Mode, Integer> counts() {
    Map<MtaStsPolicy.Mode, Integer> counts = new EnumMap<>(MtaStsPolicy.Mode.class);
    for (MtaStsPolicy.Mode m : MtaStsPolicy.Mode.values()) {
      counts.put(m, 0);
    }
    Instant now = clock.instant();
    for (Applied a : cache.values()) {
      if (a.expires().isAfter(now)) {
        counts.merge(a.policy().mode(), 1, Integer::sum);
      }
    }
    return counts;
  }

  private boolean halfSpent(Applied a) {
    Duration age = Duration.between(a.fetched(), clock.instant());
    return age.getSeconds() * 2 >= a.policy().maxAgeSeconds();
  }

  private Applied valid(String domain) {
    Applied a = cache.get(domain);
    return a != null && a.expires().isAfter(clock.instant()) ? a : null;
  }

  // --- the cache on disk ---

  private void store(Applied applied, String text) {
    cache.put(applied.domain(), applied);
    String content = "id: " + applied.id() + "\nfetched: " + applied.fetched().getEpochSecond() + "\n\n" + text;
    Path file = dir.resolve(applied.domain());
    Path tmp = dir.resolve("." + applied.domain() + ".tmp");
    try {
      try (FileChannel out = PrivateFiles.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        out.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    } catch (IOException e) {
      // The policy still applies from memory; only a restart would have to fetch it again.
      log.error("mta-sts domain={} cannot write the policy cache {}: {}", applied.domain(), file, e.getMessage());
    }
  }

  /**
   * Why {@code domain}'s published policy could not be had, while no cached policy applies: the
   * RFC 8460 result type of the last failed fetch (sts-policy-fetch-error, sts-policy-invalid,
   * sts-webpki-invalid). Call after {@link #policy} came back empty.
   */
  Optional<String> fetchFailure(String domain) {
    Failed f = failed.get(domain.toLowerCase(Locale.ROOT));
    return f == null || valid(domain.toLowerCase(Locale.ROOT)) != null ? Optional.empty() : Optional.of(f.resultType());
  }

  private void forget(String domain) {
    cache.remove(domain);
    try {
      Files.deleteIfExists(dir.resolve(domain));
    } catch (IOException e) {
      log.error("mta-sts domain={} cannot delete the cached policy: {}", domain, e.getMessage());
    }
  }

  private void load() throws IOException {
    List<String> bad = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.startsWith(".")) {
          Files.deleteIfExists(file); // a write interrupted before its rename
          continue;
        }
        try {
          Applied a = parse(name, Files.readString(file, StandardCharsets.UTF_8));
          if (a.expires().isAfter(clock.instant())) {
            cache.put(name, a);
          }
        } catch (MtaStsPolicy.Invalid | RuntimeException e) {
          bad.add(name + " (" + e.getMessage() + ")");
        }
      }
    }
    if (!bad.isEmpty()) {
      log.warn("mta-sts cache {}: ignoring unreadable entries: {}", dir, String.join(", ", bad));
    }
  }

  private static Applied parse(String domain, String content) throws MtaStsPolicy.Invalid {
    int blank = content.indexOf("\n\n");
    if (!content.startsWith("id: ") || blank < 0) {
      throw new MtaStsPolicy.Invalid("not a cache entry");
    }
    String[] head = content.substring(0, blank).split("\n");
    if (head.length != 2 || !head[1].startsWith("fetched: ")) {
      throw new MtaStsPolicy.Invalid("not a cache entry");
    }
    String id = head[0].substring(4);
    Instant fetched = Instant.ofEpochSecond(Long.parseLong(head[1].substring(9)));
    return new Applied(domain, id, MtaStsPolicy.parse(content.substring(blank + 2)), fetched);
  }
}
