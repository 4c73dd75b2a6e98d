package dev.signet.dmarc;

/** A file that is not a readable DMARC aggregate report; it is reported and skipped, never stored. */
public final class MalformedReport extends Exception {
  public MalformedReport(String message) {
    super(message);
  }

  MalformedReport(String message, Throwable cause) {
    super(message, cause);
  }
}
