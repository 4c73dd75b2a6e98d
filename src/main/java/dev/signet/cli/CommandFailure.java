package dev.signet.cli;

/** A command that cannot do what was asked; the message names the file, key or option at fault. */
final class CommandFailure extends RuntimeException {
  private final int exitCode;

  CommandFailure(String message) {
    this(message, 1);
  }

  CommandFailure(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
