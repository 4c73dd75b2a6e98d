package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.events.Suppressions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code signet suppression list|add|remove|import}: the addresses the relay will not mail. */
@Command(name = "suppression", mixinStandardHelpOptions = true,
    description = {
      "Manage the suppression list (<spool>/suppressions/).",
      "",
      "An address is suppressed for suppression.ttl after a hard bounce of a class in suppression.classes "
          + "(default: invalid-recipient, for 30d); mail to it is refused at RCPT (suppression.action: refuse) "
          + "or accepted and bounced (event). When the relay runs, changes go through its admin API; "
          + "when it does not, to the files directly."},
    subcommands = {
      SuppressionCommand.ListCommand.class, SuppressionCommand.AddCommand.class,
      SuppressionCommand.RemoveCommand.class, SuppressionCommand.ImportCommand.class})
final class SuppressionCommand extends CommandGroup {

  @Override
  String subcommands() {
    return "list, add ADDRESS, remove ADDRESS or import FILE";
  }

  /** The subcommands' shared part: the list, through the running relay or on the spool. */
  abstract static class Sub extends CommandGroup.Sub {
    @Override
    final void run() throws IOException, InterruptedException {
      run(SuppressionControl.of(settings()));
    }

    abstract void run(SuppressionControl control) throws IOException, InterruptedException;
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "One line per suppressed address: address, since, until, reason.")
  static final class ListCommand extends Sub {
    @Override
    void run(SuppressionControl control) throws IOException, InterruptedException {
      List<Suppressions.Entry> entries = control.list();
      for (Suppressions.Entry e : entries) {
        out().printf("%s  since=%s  until=%s  reason=%s%n", e.address(), e.since(), e.until(), e.reason());
      }
      out().println(entries.size() + " suppressed address" + (entries.size() == 1 ? "" : "es"));
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Suppress ADDRESS.")
  static final class AddCommand extends Sub {
    @Parameters(paramLabel = "ADDRESS") String address;
    @Option(names = "--ttl", paramLabel = "DURATION", description = "How long (30s, 5m, 2h, 30d). Default: suppression.ttl.")
    String ttl;
    @Option(names = "--reason", defaultValue = "manual", description = "Shown in refusals and listings. Default: ${DEFAULT-VALUE}.")
    String reason;

    @Override
    void run(SuppressionControl control) throws IOException, InterruptedException {
      int n = control.add(List.of(checked(address)), duration(ttl, settings()), reason);
      out().println("suppressed " + n + " address" + (n == 1 ? "" : "es") + via(control));
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Lift the suppression of ADDRESS.")
  static final class RemoveCommand extends Sub {
    @Parameters(paramLabel = "ADDRESS") String address;

    @Override
    void run(SuppressionControl control) throws IOException, InterruptedException {
      if (!control.remove(address)) {
        throw new CommandFailure("not suppressed: " + address);
      }
      out().println("removed " + address + via(control));
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = "Suppress every address in FILE (one per line; blank lines and # comments skipped; - = stdin).")
  static final class ImportCommand extends Sub {
    @Parameters(paramLabel = "FILE") String file;
    @Option(names = "--ttl", paramLabel = "DURATION", description = "How long. Default: suppression.ttl.") String ttl;
    @Option(names = "--reason", defaultValue = "import", description = "Default: ${DEFAULT-VALUE}.") String reason;

    @Override
    void run(SuppressionControl control) throws IOException, InterruptedException {
      List<String> addresses = new ArrayList<>();
      try (BufferedReader in = file.equals("-")
          ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
          : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
        int lineNo = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lineNo++;
          String a = line.strip();
          if (a.isEmpty() || a.startsWith("#")) {
            continue;
          }
          try {
            addresses.add(checked(a));
          } catch (CommandFailure e) {
            throw new CommandFailure(file + ":" + lineNo + ": " + e.getMessage());
          }
        }
      } catch (java.nio.file.NoSuchFileException e) {
        throw new CommandFailure(file + ": no such file");
      }
      int n = control.add(addresses, duration(ttl, settings()), reason);
      out().println("suppressed " + n + " address" + (n == 1 ? "" : "es") + via(control));
    }
  }

  private static String via(SuppressionControl control) {
    return control.viaRelay() ? " (by the running relay)" : "";
  }

  static String checked(String address) {
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1 || address.chars().anyMatch(c -> c <= ' ' || c == 127)) {
      throw new CommandFailure("not an email address: '" + address + "'");
    }
    return address;
  }

  private static Duration duration(String text, SignetConfig config) {
    if (text == null) {
      return config.feedback().suppression().ttl();
    }
    try {
      return SignetConfig.duration(text);
    } catch (IllegalArgumentException e) {
      throw new CommandFailure("--ttl: " + e.getMessage());
    }
  }
}
