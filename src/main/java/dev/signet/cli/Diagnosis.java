package dev.signet.cli;

import java.util.Optional;

/**
 * One line of {@code signet dns --check}: which check, on which DNS name, whether it passed, what was
 * found, and when it failed the exact record to publish or change.
 *
 * @param check dkim, spf, dmarc, ptr
 * @param name the DNS name (or address) checked
 * @param fix the zone-file line that makes the check pass
 */
record Diagnosis(String check, String name, boolean ok, String detail, Optional<String> fix) {

  static Diagnosis pass(String check, String name, String detail) {
    return new Diagnosis(check, name, true, detail, Optional.empty());
  }

  static Diagnosis fail(String check, String name, String detail, String fix) {
    return new Diagnosis(check, name, false, detail, Optional.ofNullable(fix));
  }
}
