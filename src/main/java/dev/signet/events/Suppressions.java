package dev.signet.events;

import dev.signet.config.PrivateFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Addresses not to mail any more (docs/ARCHITECTURE.md "Events"): a hash map in memory (O(1)
 * lookups at RCPT), kept durable as an append-only log {@code <spool>/suppressions/list} of lines
 * {@code + <address> <since> <until> <reason>} and {@code - <address>} (epoch seconds), fsynced before
 * a change returns. Opening replays the log, forgets expired entries, and rewrites the log (write,
 * fsync, rename) when it has grown to more than twice the live entries. A crash can leave a torn
 * last line, which is ignored (its change never returned).
 *
 * <p>Addresses are compared lower-cased: RFC 5321 §2.4 leaves local parts case-sensitive, but no
 * mailbox provider treats them so, and a suppression that "Bob@" escapes would be worthless.
 */
public final class Suppressions implements AutoCloseable {
  static final String FILE = "list";

  /** One suppressed address: since when, until when, and why (a bounce class, or "manual"). */
  public record Entry(String address, Instant since, Instant until, String reason) {}

  private record Times(long since, long until, String reason) {}

  private final Path file;
  private final Clock clock;
  private final Map<String, Times> entries;
  private FileChannel log;

  private Suppressions(Path file, Clock clock, Map<String, Times> entries, FileChannel log) {
    this.file = file;
    this.clock = clock;
    this.entries = entries;
    this.log = log;
  }

  /** Opens (creating) the list in {@code dir} for changes; one process at a time (the spool's owner). */
  public static Suppressions open(Path dir, Clock clock) throws IOException {
    PrivateFiles.directory(dir);
    Path file = dir.resolve(FILE);
    Replay replay = replay(file, clock.instant().getEpochSecond());
    Suppressions list = new Suppressions(file, clock, replay.entries(), null);
    if (replay.lines() > 2 * replay.entries().size() + 1000 || replay.torn()) {
      list.rewrite();
    }
    list.log = PrivateFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    EventStore.syncDirectory(dir);
    return list;
  }

  /** The live entries in {@code dir} without opening it for changes (a running relay may own it). */
  public static List<Entry> read(Path dir, Clock clock) throws IOException {
    Map<String, Times> entries = replay(dir.resolve(FILE), clock.instant().getEpochSecond()).entries();
    return sorted(entries);
  }

  private record Replay(Map<String, Times> entries, int lines, boolean torn) {}

  private static Replay replay(Path file, long now) throws IOException {
    Map<String, Times> entries = new ConcurrentHashMap<>();
    int lines = 0;
    boolean torn = false;
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines++;
        String[] f = line.split(" ", 5);
        try {
          if (f[0].equals("+") && f.length == 5) {
            long until = Long.parseLong(f[3]);
            if (until > now) {
              entries.put(f[1], new Times(Long.parseLong(f[2]), until, f[4]));
            } else {
              entries.remove(f[1]);
            }
          } else if (f[0].equals("-") && f.length == 2) {
            entries.remove(f[1]);
          } else {
            torn = true; // only a crash mid-append writes a partial line
          }
        } catch (NumberFormatException e) {
          torn = true;
        }
      }
    } catch (NoSuchFileException e) {
      // a new list
    }
    return new Replay(entries, lines, torn);
  }

  /** Writes the live entries to a new log and renames it over the old one. */
  private void rewrite() throws IOException {
    Path tmp = file.resolveSibling(FILE + ".tmp");
    StringBuilder out = new StringBuilder(entries.size() * 64);
    entries.forEach((address, t) -> line(out, address, t));
    try (FileChannel ch = PrivateFiles.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      write(ch, out);
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    EventStore.syncDirectory(file.getParent());
  }

  private static void line(StringBuilder out, String address, Times t) {
    out.append("+ ").append(address).append(' ').append(t.since()).append(' ').append(t.until()).append(' ')
        .append(t.reason()).append('\n');
  }

  private static void write(FileChannel ch, StringBuilder text) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The key an address is stored under. */
  public static String key(String address) {
    return address.toLowerCase(Locale.ROOT);
  }

  /** The entry for {@code address} if it is suppressed now. */
  public Optional<Entry> find(String address) {
    String key = key(address);
    Times t = entries.get(key); // lock-free: a change being fsynced never holds up an RCPT
    if (t == null || t.until() <= clock.instant().getEpochSecond()) {
      return Optional.empty();
    }
    return Optional.of(entry(key, t));
  }

  /** Suppresses {@code address} from now for {@code ttl}, durably (replacing an older entry). */
  public Entry add(String address, Duration ttl, String reason) throws IOException {
    Instant now = clock.instant();
    Entry entry = new Entry(key(address), now, now.plus(ttl), reason);
    addAll(List.of(entry));
    return entry;
  }

  /** Adds (or replaces) {@code added} with one fsync: for imports. */
  public synchronized void addAll(Collection<Entry> added) throws IOException {
    StringBuilder out = new StringBuilder(added.size() * 64);
    for (Entry e : added) {
      if (e.address().isEmpty() || e.address().contains(" ") || e.address().contains("\n")
          || e.reason().isEmpty() || e.reason().contains("\n")) {
        throw new IllegalArgumentException("not a suppressible address or reason: '" + e.address() + "'");
      }
      line(out, key(e.address()), times(e));
    }
    write(log, out);
    log.force(false);
    for (Entry e : added) {
      entries.put(key(e.address()), times(e));
    }
  }

  /** Lifts the suppression of {@code address}; false if it was not suppressed. */
  public synchronized boolean remove(String address) throws IOException {
    String key = key(address);
    if (!entries.containsKey(key)) {
      return false;
    }
    write(log, new StringBuilder("- ").append(key).append('\n'));
    log.force(false);
    entries.remove(key);
    return true;
  }

  /** Every live entry, by address. */
  public List<Entry> list() {
    return sorted(entries);
  }

  public int size() {
    return entries.size();
  }

  private static List<Entry> sorted(Map<String, Times> entries) {
    List<Entry> out = new ArrayList<>(entries.size());
    entries.forEach((a, t) -> out.add(entry(a, t)));
    out.sort(Comparator.comparing(Entry::address));
    return out;
  }

  private static Entry entry(String address, Times t) {
    return new Entry(address, Instant.ofEpochSecond(t.since()), Instant.ofEpochSecond(t.until()), t.reason());
  }

  private static Times times(Entry e) {
    return new Times(e.since().getEpochSecond(), e.until().getEpochSecond(), e.reason());
  }

  @Override
  public synchronized void close() throws IOException {
    if (log != null && log.isOpen()) {
      log.close();
    }
  }
}
