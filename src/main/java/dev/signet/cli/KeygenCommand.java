package dev.signet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "keygen", mixinStandardHelpOptions = true, description = "Generate a DKIM selector keypair and print its DNS record.")
final class KeygenCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Override
  public Integer call() {
    throw new CommandFailure("keygen is not built yet", 2);
  }
}
