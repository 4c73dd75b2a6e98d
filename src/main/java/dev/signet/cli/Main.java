package dev.signet.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar signet.jar <command>}: the commands of README.md, "Commands"
 * (docs/ARCHITECTURE.md, "Contracts with operators"). */
@Command(
    name = "signet",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Outbound DKIM-signing SMTP relay.",
    subcommands = {
      ServeCommand.class,
      DrainCommand.class,
      KeygenCommand.class,
      SignCommand.class,
      QueueCommand.class,
      SuppressionCommand.class,
      DnsCommand.class,
      DmarcCommand.class,
      UserCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    if (args.length == 0 || !(args[0].equals("serve") || args[0].equals("drain"))) {
      // One-shot commands (sign, keygen, queue, dns) talk through stdout/stderr; the relay's INFO
      // lines (providers in use, keys loaded) would only clutter a pipeline like `... | signet sign`.
      // Also under an operator's logback file (the Docker image always sets one): its levels are for
      // the relay's log.
      Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
      if (root instanceof ch.qos.logback.classic.Logger logback) {
        logback.setLevel(ch.qos.logback.classic.Level.WARN);
      }
    }
    System.exit(run(args));
  }

  /** Runs one command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    routeJavaUtilLogging();
    return new CommandLine(new Main())
        .setExecutionExceptionHandler(Main::report)
        .execute(args);
  }

  /**
   * Angus Mail (outbound SMTP, bounces) logs through java.util.logging, whose console handler prints
   * two-line plain text records to stderr: with conf/logback-json.xml those broke the JSON stream. The
   * bridge replaces JUL's handlers so every record goes through logback's configured appenders.
   */
  static synchronized void routeJavaUtilLogging() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /** A failure the user can fix is one line on stderr and exit 1, not a stack trace. */
  private static int report(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    if (e instanceof CommandFailure failure) {
      cmd.getErr().println("signet " + cmd.getCommandName() + ": " + failure.getMessage());
      return failure.exitCode();
    }
    throw new RuntimeException(e);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"signet " + (v == null ? "dev" : v)};
    }
  }
}
