package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.smtp.SubmissionServer;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code signet user add NAME --domains a.com,b.com [--users FILE] [--password-stdin]}: appends a
 * {@code name:bcrypt-hash:domains} line to the {@code clients.users} file (created with mode 0600).
 * The relay reads the file at start.
 */
@Command(name = "user", mixinStandardHelpOptions = true, description = "Manage SMTP AUTH users (clients.users).",
    subcommands = UserCommand.Add.class)
final class UserCommand implements Runnable {
  @Override
  public void run() {
    throw new CommandFailure("a subcommand is required: user add NAME --domains D1,D2");
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user with a bcrypt-hashed password.")
  static final class Add implements Callable<Integer> {
    @Mixin ConfigOption config;

    @Parameters(index = "0", paramLabel = "NAME") String name;

    @Option(names = "--domains", required = true, split = ",", paramLabel = "D1,D2",
        description = "Domains the user may send as (MAIL FROM and From).")
    List<String> domains;

    @Option(names = "--users", paramLabel = "FILE", description = "Users file. Default: clients.users from the config.")
    Path users;

    @Option(names = "--password-stdin", description = "Read the password from the first line of stdin (for scripts).")
    boolean passwordStdin;

    @Override
    public Integer call() throws IOException {
      Path file = users;
      if (file == null) {
        SignetConfig c = config.load();
        file = c.clients().users().orElseThrow(() ->
            new CommandFailure("no users file: give --users FILE or set clients.users in the config"));
      }
      char[] password = password();
      try {
        String line;
        try {
          line = SubmissionServer.usersFileLine(name, password, domains.stream().map(String::strip).toList());
        } catch (IllegalArgumentException e) {
          throw new CommandFailure(e.getMessage());
        }
        if (Files.exists(file)) {
          for (String existing : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (existing.startsWith(name + ":")) {
              throw new CommandFailure(file + ": user '" + name + "' exists already (remove its line first)");
            }
          }
        } else {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        System.out.println("added " + name + " (" + String.join(",", domains) + ") to " + file
            + "; restart the relay to use it");
        return 0;
      } finally {
        Arrays.fill(password, '\0');
      }
    }

    private char[] password() throws IOException {
      if (passwordStdin) {
        String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (line == null || line.isEmpty()) {
          throw new CommandFailure("no password on stdin");
        }
        return line.toCharArray();
      }
      Console console = System.console();
      if (console == null) {
        throw new CommandFailure("no terminal to ask for the password; use --password-stdin");
      }
      char[] first = console.readPassword("password for %s: ", name);
      char[] second = console.readPassword("again: ");
      if (first == null || first.length == 0 || !Arrays.equals(first, second)) {
        throw new CommandFailure("passwords empty or not the same");
      }
      Arrays.fill(second, '\0');
      return first;
    }
  }
}
