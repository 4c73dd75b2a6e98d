package dev.signet.cli;

import java.util.Optional;

/**
 * One line of {@code signet dns --check}: which check, on which DNS name, how it came out, what was
 * found, and when it failed the exact record to publish or change (or, where no record does it, what
 * to do).
 *
 * @param check dkim, spf, dmarc, ptr, dnssec
 * @param name the DNS name (or address) checked
 * @param fix the zone-file line (or the action) that makes the check pass
 */
record Diagnosis(String check, String name, Level level, String detail, Optional<String> fix) {

  /** How a check came out; only {@link #FAIL} makes the command exit 1. */
  enum Level {
    PASS,
    /** Nothing a receiver will hold against the mail, but worth knowing (an unsigned zone). */
    NOTE,
    FAIL
  }

  static Diagnosis pass(String check, String name, String detail) {
    return new Diagnosis(check, name, Level.PASS, detail, Optional.empty());
  }

  static Diagnosis note(String check, String name, String detail) {
    return new Diagnosis(check, name, Level.NOTE, detail, Optional.empty());
  }

  static Diagnosis fail(String check, String name, String detail, String fix) {
    return new Diagnosis(check, name, Level.FAIL, detail, Optional.ofNullable(fix));
  }

  /** Not a failure: a pass or a note. */
  boolean ok() {
    return level != Level.FAIL;
  }
}
