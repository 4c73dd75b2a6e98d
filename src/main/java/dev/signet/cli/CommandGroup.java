package dev.signet.cli;

import dev.signet.config.SignetConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * A command that only groups subcommands over the relay's config ({@code queue}, {@code suppression}):
 * run alone it asks for a subcommand; each subcommand ({@link Sub}) takes {@code --config} before or
 * after its name and turns I/O failures into a one-line error.
 */
abstract class CommandGroup implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec CommandSpec spec;

  /** The subcommands as the error for a missing one lists them: "list, show ID, ...". */
  abstract String subcommands();

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "a subcommand is required: " + subcommands());
  }

  /** One subcommand of a group. */
  abstract static class Sub implements Callable<Integer> {
    @ParentCommand CommandGroup parent;
    @Mixin ConfigOption config;
    @Spec CommandSpec spec;

    /** The config of {@code --config} given after the subcommand, else before it. */
    SignetConfig settings() {
      return (config.file != null ? config : parent.config).load();
    }

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    @Override
    public Integer call() {
      try {
        run();
      } catch (IOException e) {
        throw new CommandFailure(e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CommandFailure("interrupted");
      }
      out().flush();
      return 0;
    }

    abstract void run() throws IOException, InterruptedException;
  }
}
