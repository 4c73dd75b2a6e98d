package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.events.Suppressions;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code signet suppression} does to a relay's list: with no relay running, it takes the
 * spool's lock (so no relay starts meanwhile) and changes the files under {@code <spool>/suppressions/}
 * directly; a running relay owns them, and is asked through its admin API.
 */
abstract class SuppressionControl {
  static SuppressionControl of(SignetConfig config) throws IOException {
    return new Direct(config.spool().dir());
  }

  abstract boolean viaRelay();

  abstract List<Suppressions.Entry> list() throws IOException, InterruptedException;

  /** Suppresses {@code addresses} for {@code ttl}; returns how many. */
  abstract int add(List<String> addresses, Duration ttl, String reason) throws IOException, InterruptedException;

  abstract boolean remove(String address) throws IOException, InterruptedException;

  /** The files of a stopped relay's spool. */
  static final class Direct extends SuppressionControl {
    private final Path spoolDir;

    Direct(Path spoolDir) {
      this.spoolDir = spoolDir;
    }

    @Override
    boolean viaRelay() {
      return false;
    }

    @Override
    List<Suppressions.Entry> list() throws IOException {
      return Suppressions.read(spoolDir.resolve("suppressions"), Clock.systemUTC());
    }

    @Override
    int add(List<String> addresses, Duration ttl, String reason) throws IOException {
      Instant now = Instant.now();
      List<Suppressions.Entry> entries = new ArrayList<>(addresses.size());
      for (String a : addresses) {
        entries.add(new Suppressions.Entry(a, now, now.plus(ttl), reason));
      }
      try (Spool owned = Spool.open(spoolDir);
          Suppressions list = Suppressions.open(spoolDir.resolve("suppressions"), Clock.systemUTC())) {
        list.addAll(entries);
      }
      return entries.size();
    }

    @Override
    boolean remove(String address) throws IOException {
      try (Spool owned = Spool.open(spoolDir);
          Suppressions list = Suppressions.open(spoolDir.resolve("suppressions"), Clock.systemUTC())) {
        return list.remove(address);
      }
    }
  }
}
