package dev.signet.cli;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.PrintWriter;
import java.util.List;

/** How {@code dns --check} shows its findings: an aligned table for people, JSON for scripts. */
final class DoctorReport {

  private DoctorReport() {}

  static void table(PrintWriter out, List<Diagnosis> findings) {
    int checkWidth = findings.stream().mapToInt(d -> d.check().length()).max().orElse(0);
    int width = findings.stream().mapToInt(d -> d.name().length()).max().orElse(0);
    String row = "%s %-" + checkWidth + "s %-" + width + "s  %s%n";
    for (Diagnosis d : findings) {
      out.printf(row, mark(d.level()), d.check(), d.name(), d.detail());
      d.fix().ifPresent(fix -> out.printf("  %-" + checkWidth + "s %-" + width + "s  -> %s%n", "", "", fix));
    }
  }

  /** ✔ pass, ℹ note (does not fail the command), ✘ fail. */
  static String mark(Diagnosis.Level level) {
    return switch (level) {
      case PASS -> "✔";
      case NOTE -> "ℹ";
      case FAIL -> "✘";
    };
  }

  /**
   * {@code [{"check":..,"name":..,"ok":..,"level":"pass"|"note"|"fail","detail":..,"fix":..|null}, ...]};
   * {@code ok} is false only for a failure.
   */
  static String json(List<Diagnosis> findings) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < findings.size(); i++) {
      Diagnosis d = findings.get(i);
      s.append(i == 0 ? "\n" : ",\n").append("  {\"check\": ").append(quote(d.check()))
          .append(", \"name\": ").append(quote(d.name()))
          .append(", \"ok\": ").append(d.ok())
          .append(", \"level\": ").append(quote(d.level().name().toLowerCase(java.util.Locale.ROOT)))
          .append(", \"detail\": ").append(quote(d.detail()))
          .append(", \"fix\": ").append(d.fix().map(DoctorReport::quote).orElse("null")).append('}');
    }
    return s.append("\n]").toString();
  }

  /** A JSON string (RFC 8259 §7), escaped by Jackson. */
  static String quote(String text) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + "\"";
  }
}
