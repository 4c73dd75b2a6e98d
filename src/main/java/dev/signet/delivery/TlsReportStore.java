package dev.signet.delivery;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The TLS-RPT session counts of each UTC day, on disk under {@code <spool>/tls-reports/} so that a
 * restart loses none: one file per day ({@code <yyyy-mm-dd>.tally}), rewritten whole (temporary file,
 * fsync, rename, directory fsync) whenever a count changes. Each line is one {@link Row} and its count,
 * tab-separated, every field URL-encoded.
 */
final class TlsReportStore {

  /** One kind of session of one day: a policy domain, its policy, and a failure (or none = success). */
  record Row(String domain, String policyType, List<String> policyStrings, List<String> mxHosts, String result,
      String sendingIp, String receivingMx, String receivingIp) {
    static final String SUCCESS = "ok";

    Row {
      policyStrings = List.copyOf(policyStrings);
      mxHosts = List.copyOf(mxHosts);
    }

    boolean success() {
      return result.equals(SUCCESS);
    }
  }

  private static final FileAttribute<?>[] PRIVATE_FILE = posix("rw-------");
  private static final FileAttribute<?>[] PRIVATE_DIRECTORY = posix("rwx------");
  private static final String SUFFIX = ".tally";

  private final Path dir;
  private final Map<LocalDate, Map<Row, Long>> days = new TreeMap<>();

  private TlsReportStore(Path dir) {
    this.dir = dir;
  }

  /** Opens (creating) {@code dir} and reads the days it holds; a half-written temporary file is removed. */
  static TlsReportStore open(Path dir) throws IOException {
    try {
      Files.createDirectories(dir, PRIVATE_DIRECTORY);
    } catch (FileAlreadyExistsException e) {
      throw new IOException(dir + ": exists and is not a directory", e);
    }
    TlsReportStore store = new TlsReportStore(dir);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.delete(f); // a write interrupted before its rename: the previous version stands
        } else if (name.endsWith(SUFFIX)) {
          store.days.put(LocalDate.parse(name.substring(0, name.length() - SUFFIX.length())), read(f));
        }
      }
    } catch (java.time.format.DateTimeParseException e) {
      throw new IOException(dir + ": a file not named <yyyy-mm-dd>" + SUFFIX + ": " + e.getParsedString(), e);
    }
    return store;
  }

  /** Adds one session to {@code day} and writes the day's file before returning. */
  synchronized void add(LocalDate day, Row row) throws IOException {
    Map<Row, Long> counts = days.computeIfAbsent(day, d -> new LinkedHashMap<>());
    counts.merge(row, 1L, Long::sum);
    write(day, counts);
  }

  /** The days before {@code today} that still have counts (to report), oldest first. */
  synchronized List<LocalDate> before(LocalDate today) {
    return days.keySet().stream().filter(d -> d.isBefore(today)).toList();
  }

  synchronized Map<Row, Long> counts(LocalDate day) {
    return Map.copyOf(days.getOrDefault(day, Map.of()));
  }

  /**
   * {@code reported} (what {@link #counts} gave) went out: those counts go. A session counted meanwhile
   * (it began before midnight and ended as the report was built) stays, for the next report.
   */
  synchronized void remove(LocalDate day, Map<Row, Long> reported) throws IOException {
    Map<Row, Long> counts = days.getOrDefault(day, new LinkedHashMap<>());
    reported.forEach((row, n) -> counts.computeIfPresent(row, (r, have) -> have - n > 0 ? have - n : null));
    if (!counts.isEmpty()) {
      write(day, counts);
      return;
    }
    days.remove(day);
    Files.deleteIfExists(dir.resolve(day + SUFFIX));
    syncDirectory();
  }

  private void write(LocalDate day, Map<Row, Long> counts) throws IOException {
    StringBuilder text = new StringBuilder();
    counts.forEach((r, n) -> text.append(String.join("\t", enc(r.domain()), enc(r.policyType()),
        enc(String.join("\n", r.policyStrings())), enc(String.join("\n", r.mxHosts())), enc(r.result()),
        enc(r.sendingIp()), enc(r.receivingMx()), enc(r.receivingIp()), Long.toString(n))).append('\n'));
    Path file = dir.resolve(day + SUFFIX);
    Path tmp = dir.resolve(day + SUFFIX + ".tmp");
    Files.deleteIfExists(tmp);
    try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        PRIVATE_FILE)) {
      ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
      out.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory();
  }

  private void syncDirectory() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static Map<Row, Long> read(Path file) throws IOException {
    Map<Row, Long> counts = new LinkedHashMap<>();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      String[] f = line.split("\t", -1);
      if (f.length != 9) {
        throw new IOException(file + " line " + n + ": expected 9 tab-separated fields, found " + f.length);
      }
      try {
        counts.put(new Row(dec(f[0]), dec(f[1]), lines(dec(f[2])), lines(dec(f[3])), dec(f[4]), dec(f[5]),
            dec(f[6]), dec(f[7])), Long.parseLong(f[8]));
      } catch (IllegalArgumentException e) {
        throw new IOException(file + " line " + n + ": " + e.getMessage(), e);
      }
    }
    return counts;
  }

  private static List<String> lines(String joined) {
    return joined.isEmpty() ? List.of() : new ArrayList<>(Arrays.asList(joined.split("\n", -1)));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static FileAttribute<?>[] posix(String mode) {
    boolean posix = java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode))}
        : new FileAttribute<?>[0];
  }
}
