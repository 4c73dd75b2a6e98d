package dev.signet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "sign", mixinStandardHelpOptions = true, description = "Sign one message from stdin to stdout, as the relay would.")
final class SignCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Override
  public Integer call() {
    throw new CommandFailure("sign is not built yet", 2);
  }
}
