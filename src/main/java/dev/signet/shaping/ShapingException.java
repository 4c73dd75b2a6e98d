package dev.signet.shaping;

/** A shaping file that cannot be used; the message names the file, the line and the key at fault. */
public final class ShapingException extends Exception {
  public ShapingException(String message) {
    super(message);
  }
}
