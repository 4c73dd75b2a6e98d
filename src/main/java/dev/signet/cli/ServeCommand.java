package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code signet serve}: loads the config and keys, starts a {@link Relay} and runs until
 * SIGTERM/SIGINT, when a shutdown hook stops it gracefully (bounded: sessions in DATA finish, new
 * ones get 421, deliveries in flight record their outcome). SIGHUP reloads the keys.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the relay.")
final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin ConfigOption config;

  @Override
  public Integer call() throws InterruptedException {
    SignetConfig c = config.load();
    KeyRing keys = keys(c);
    // Handled from before the start: the JVM's default for HUP would stop the relay.
    java.util.concurrent.atomic.AtomicReference<Relay> started = new java.util.concurrent.atomic.AtomicReference<>();
    Signals.onHangup(() -> {
      Relay r = started.get();
      if (r == null) {
        log.info("SIGHUP during start: the keys just loaded are in force");
      } else {
        r.reloadKeys();
      }
    });
    Relay relay;
    try {
      relay = Relay.start(c, keys);
    } catch (IOException e) {
      throw new CommandFailure(e.getMessage());
    }
    started.set(relay);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping: no new sessions or delivery attempts; transactions get up to {}, deliveries in flight up to {}",
          Relay.SESSION_GRACE, Relay.DELIVERY_GRACE);
      relay.close();
      log.info("stopped");
      stopped.countDown();
    }, "signet-shutdown"));
    stopped.await();
    return 0;
  }

  /**
   * The key ring ({@code serve} and {@code drain}); a missing keys directory is created empty so a
   * fresh install starts.
   */
  static KeyRing keys(SignetConfig c) {
    Path dir = c.dkim().keys();
    try {
      if (!Files.exists(dir)) {
        Files.createDirectories(dir);
        log.warn("dkim.keys {} did not exist; created it empty", dir.toAbsolutePath());
      }
      KeyRing keys = KeyRing.load(dir);
      if (keys.all().isEmpty()) {
        log.warn("no DKIM keys in {}: bounces go out unsigned and every new message will be {} until you create one, e.g. "
            + "signet keygen --domain example.com --selector s2026 --keys {}",
            dir.toAbsolutePath(),
            c.dkim().unsigned() == SignetConfig.UnsignedPolicy.REJECT
                ? "refused with 451 4.3.5 (dkim.unsigned: reject)" : "relayed unsigned (dkim.unsigned: relay)",
            dir);
      } else {
        log.info("DKIM keys: {}", keys.all().stream().map(SigningKey::describe).collect(Collectors.joining(", ")));
      }
      return keys;
    } catch (IOException e) {
      throw new CommandFailure("dkim.keys " + dir + ": " + Relay.reason(e));
    } catch (DkimException e) {
      throw new CommandFailure("dkim.keys " + dir + ": " + e.getMessage());
    }
  }
}
