package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code signet serve} in a JVM of its own, for tests that kill it, stop it with a signal or give the
 * JVM options of their own; its output (stdout and stderr) is collected as it comes.
 */
final class RelayProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on \\\\?/127\\.0\\.0\\.1:(\\d+)");

  private final Process process;
  private final StringBuffer log = new StringBuffer();
  private final Thread drain;

  private RelayProcess(Process process) {
    this.process = process;
    this.drain = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          log.append(line).append('\n');
        }
      } catch (IOException e) {
        log.append("(output closed: ").append(e).append(")\n");
      }
    });
  }

  /** Starts {@code signet serve --config config} with {@code jvmOptions}; returns once it listens. */
  static RelayProcess serve(Path config, String... jvmOptions) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config",
        config.toString()));
    RelayProcess relay = new RelayProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    relay.awaitLog("relay listening", () -> LISTENING.matcher(relay.log).find());
    return relay;
  }

  /** The submission port. */
  int port() {
    Matcher m = LISTENING.matcher(log);
    assertTrue(m.find(), "relay log:\n" + log);
    return Integer.parseInt(m.group(1));
  }

  /** Everything the relay has written so far. */
  StringBuffer log() {
    return log;
  }

  /** Waits up to a minute for {@code condition}; fails at once, with the log, if the relay exits. */
  void awaitLog(String what, BooleanSupplier condition) throws InterruptedException {
    Await.await(what, Duration.ofSeconds(60), () -> {
      if (!process.isAlive()) {
        throw new AssertionError("the relay exited while waiting for " + what + "; relay log:\n" + log);
      }
      return condition.getAsBoolean();
    }, () -> "relay log:\n" + log);
  }

  /** SIGKILL: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    drain.join(5000);
  }

  /** SIGTERM, the graceful stop; SIGKILL after 40 s. */
  void stop() throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(40, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    drain.join(5000);
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
