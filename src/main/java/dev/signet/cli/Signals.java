package dev.signet.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP for {@code serve}: the conventional "reload your configuration" signal. Handling it also
 * replaces the JVM's default, which would treat HUP like TERM and stop the relay. Through
 * {@code sun.misc.Signal}, which not every JVM offers (or allows, with {@code -Xrs}): then the
 * keys are still reloaded by the file watch, and a log line says SIGHUP is not handled.
 */
final class Signals {
  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  static void onHangup(Runnable action) {
    try {
      sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
        log.info("SIGHUP: reloading dkim.keys");
        action.run();
      });
      if (previous == sun.misc.SignalHandler.SIG_IGN) {
        // The JVM leaves a signal its parent set to "ignore" ignored (nohup does that for HUP).
        log.warn("SIGHUP is ignored in this process (started under nohup?), so it cannot reload the keys; "
            + "they are reloaded when files in dkim.keys change");
      }
    } catch (IllegalArgumentException | IllegalStateException | LinkageError e) {
      log.warn("SIGHUP not available ({}); keys are reloaded when files in dkim.keys change", e.toString());
    }
  }
}
