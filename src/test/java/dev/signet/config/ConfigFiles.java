package dev.signet.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The config tests' way to read a YAML text: written to {@code dir}/signet.yaml and loaded as {@code serve} loads it. */
final class ConfigFiles {
  private ConfigFiles() {}

  static SignetConfig load(Path dir, String yaml, Map<String, String> env) throws IOException, ConfigException {
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, yaml);
    return SignetConfig.load(Optional.of(file), env);
  }
}
