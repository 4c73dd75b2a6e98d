package dev.signet.dmarc;

import dev.signet.config.PrivateFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Report summaries under {@code <spool>/dmarc/}, one small text file per report, named by a hash of
 * the reporter and its report id: the same report arriving twice (a resent mail, a second copy in
 * another folder) is stored and counted once. Written like the spool writes messages: a temporary
 * file, fsynced, renamed into place, directory fsynced; a crash leaves the report absent or whole.
 *
 * <p>File format, tab-separated, one line per fact:
 * {@code report org email id begin end domain}, {@code tally dkim spf disposition count},
 * {@code ip address count}.
 */
final class ReportStore {

  private final Path dir;

  ReportStore(Path spoolDir) throws IOException {
    this.dir = spoolDir.resolve("dmarc");
    PrivateFiles.directory(dir);
    PrivateFiles.directory(dir.resolve("tmp"));
  }

  /** Stores {@code report}; false if a report with its reporter and id is already there. */
  synchronized boolean add(ReportSummary report) throws IOException {
    Path target = dir.resolve(key(report) + ".report");
    if (Files.exists(target)) {
      return false;
    }
    Path tmp = PrivateFiles.createTempFile(dir.resolve("tmp"), "report", ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE);
           BufferedWriter w = new BufferedWriter(new OutputStreamWriter(
               java.nio.channels.Channels.newOutputStream(channel), StandardCharsets.UTF_8))) {
        w.write(String.join("\t", "report", clean(report.org()), clean(report.email()), clean(report.reportId()),
            String.valueOf(report.begin().getEpochSecond()), String.valueOf(report.end().getEpochSecond()),
            clean(report.domain())) + "\n");
        for (ReportSummary.Tally t : report.tallies()) {
          w.write(String.join("\t", "tally", t.dkim(), t.spf(), t.disposition(), String.valueOf(t.count())) + "\n");
        }
        for (Map.Entry<String, Long> ip : report.unauthorized().entrySet()) {
          w.write(String.join("\t", "ip", clean(ip.getKey()), String.valueOf(ip.getValue())) + "\n");
        }
        w.flush();
        channel.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        return false;
      }
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
      return true;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Every stored summary. */
  synchronized List<ReportSummary> all() throws IOException {
    List<ReportSummary> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.report")) {
      for (Path file : files) {
        out.add(read(file));
      }
    }
    return out;
  }

  private static ReportSummary read(Path file) throws IOException {
    String[] head = null;
    List<ReportSummary.Tally> tallies = new ArrayList<>();
    Map<String, Long> ips = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t", -1);
      try {
        switch (f[0]) {
          case "report" -> head = f;
          case "tally" -> tallies.add(new ReportSummary.Tally(f[1], f[2], f[3], Long.parseLong(f[4])));
          case "ip" -> ips.put(f[1], Long.parseLong(f[2]));
          default -> throw new IOException(file + ": unknown line '" + line + "'");
        }
      } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
        throw new IOException(file + ": damaged line '" + line + "'", e);
      }
    }
    if (head == null || head.length < 7) {
      throw new IOException(file + ": no report line");
    }
    return new ReportSummary(head[1], head[2], head[3], Instant.ofEpochSecond(Long.parseLong(head[4])),
        Instant.ofEpochSecond(Long.parseLong(head[5])), head[6], tallies, ips);
  }

  private static String key(ReportSummary report) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] hash = sha.digest((report.org() + "\0" + report.email() + "\0" + report.reportId())
          .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String clean(String value) {
    return value == null ? "" : value.replaceAll("[\\t\\r\\n]", " ");
  }
}
