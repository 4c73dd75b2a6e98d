package dev.signet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "dns", mixinStandardHelpOptions = true, description = "Print (and check) the DNS records to publish.")
final class DnsCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Override
  public Integer call() {
    throw new CommandFailure("dns is not built yet", 2);
  }
}
