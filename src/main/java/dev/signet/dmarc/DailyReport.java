package dev.signet.dmarc;

import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code signet dmarc report}: per day (UTC, by the start of each report's period) and reporting
 * organization, how many messages receivers saw, what share passed DKIM and SPF aligned (DMARC's own
 * evaluation), the dispositions, and the source addresses SPF did not authorize.
 */
public final class DailyReport {

  private DailyReport() {}

  private static final class Line {
    long messages;
    long dkimPass;
    long spfPass;
    final Map<String, Long> dispositions = new TreeMap<>();
    final Map<String, Long> unauthorized = new TreeMap<>();
  }

  public static void print(PrintWriter out, List<ReportSummary> reports) {
    Map<String, Line> lines = new TreeMap<>();
    for (ReportSummary r : reports) {
      LocalDate day = r.begin().atOffset(ZoneOffset.UTC).toLocalDate();
      Line line = lines.computeIfAbsent(day + "\t" + r.org(), k -> new Line());
      for (ReportSummary.Tally t : r.tallies()) {
        line.messages += t.count();
        line.dkimPass += t.dkim().equals("pass") ? t.count() : 0;
        line.spfPass += t.spf().equals("pass") ? t.count() : 0;
        line.dispositions.merge(t.disposition(), t.count(), Long::sum);
      }
      r.unauthorized().forEach((ip, n) -> line.unauthorized.merge(ip, n, Long::sum));
    }
    if (lines.isEmpty()) {
      out.println("no DMARC reports stored yet (signet dmarc ingest, or dmarc.imap)");
      return;
    }
    out.printf("%-10s  %-24s %9s %8s %8s  %-28s %s%n", "day", "reporter", "messages", "dkim", "spf",
        "disposition", "not authorized by SPF");
    lines.forEach((key, l) -> {
      String[] k = key.split("\t", 2);
      String dispositions = l.dispositions.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
          .collect(Collectors.joining(" "));
      String ips = l.unauthorized.isEmpty() ? "-" : l.unauthorized.entrySet().stream()
          .map(e -> e.getKey() + " (" + e.getValue() + ")").collect(Collectors.joining(", "));
      out.printf("%-10s  %-24s %9d %8s %8s  %-28s %s%n", k[0], k[1], l.messages, percent(l.dkimPass, l.messages),
          percent(l.spfPass, l.messages), dispositions, ips);
    });
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * part / whole);
  }
}
