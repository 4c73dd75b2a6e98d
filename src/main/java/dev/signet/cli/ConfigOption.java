package dev.signet.cli;

import dev.signet.config.ConfigException;
import dev.signet.config.SignetConfig;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by the commands that read conf/signet.yaml. */
final class ConfigOption {
  @Option(names = "--config", paramLabel = "FILE",
      description = "Config file (YAML). Default: embedded defaults; SIGNET_* environment variables override either.")
  Path file;

  SignetConfig load() {
    try {
      return SignetConfig.load(Optional.ofNullable(file), System.getenv());
    } catch (ConfigException e) {
      throw new CommandFailure(e.getMessage());
    }
  }
}
