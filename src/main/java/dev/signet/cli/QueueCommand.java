package dev.signet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "queue", mixinStandardHelpOptions = true, description = "Inspect and act on the spool.")
final class QueueCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Override
  public Integer call() {
    throw new CommandFailure("queue is not built yet", 2);
  }
}
