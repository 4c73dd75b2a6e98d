package dev.signet.config;

/** A configuration value that is missing, malformed or unknown; the message names the key (and file). */
public final class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }
}
