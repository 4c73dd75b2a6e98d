package dev.signet.cli;

import java.io.PrintWriter;
import java.util.List;

/** How {@code dns --check} shows its findings: an aligned table for people, JSON for scripts. */
final class DoctorReport {

  private DoctorReport() {}

  static void table(PrintWriter out, List<Diagnosis> findings) {
    int width = findings.stream().mapToInt(d -> d.name().length()).max().orElse(0);
    for (Diagnosis d : findings) {
      out.printf("%s %-5s %-" + width + "s  %s%n", d.ok() ? "✔" : "✘", d.check(), d.name(), d.detail());
      d.fix().ifPresent(fix -> out.printf("  %-5s %-" + width + "s  -> %s%n", "", "", fix));
    }
  }

  /** {@code [{"check":..,"name":..,"ok":..,"detail":..,"fix":..|null}, ...]}. */
  static String json(List<Diagnosis> findings) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < findings.size(); i++) {
      Diagnosis d = findings.get(i);
      s.append(i == 0 ? "\n" : ",\n").append("  {\"check\": ").append(quote(d.check()))
          .append(", \"name\": ").append(quote(d.name()))
          .append(", \"ok\": ").append(d.ok())
          .append(", \"detail\": ").append(quote(d.detail()))
          .append(", \"fix\": ").append(d.fix().map(DoctorReport::quote).orElse("null")).append('}');
    }
    return s.append("\n]").toString();
  }

  /** A JSON string (RFC 8259 §7). */
  static String quote(String text) {
    StringBuilder s = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> s.append("\\\"");
        case '\\' -> s.append("\\\\");
        case '\n' -> s.append("\\n");
        case '\r' -> s.append("\\r");
        case '\t' -> s.append("\\t");
        default -> {
          if (c < 0x20) {
            s.append(String.format("\\u%04x", (int) c));
          } else {
            s.append(c);
          }
        }
      }
    }
    return s.append('"').toString();
  }
}
