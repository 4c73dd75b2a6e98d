package dev.signet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.signet.config.SignetConfig;
import dev.signet.events.Suppressions;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code signet suppression} does to a relay's list: with no relay running, it takes the
 * spool's lock (so no relay starts meanwhile) and changes the files under {@code <spool>/suppressions/}
 * directly; a running relay owns them, and is asked through its admin API ({@link AdminClient}).
 */
abstract class SuppressionControl {
  static SuppressionControl of(SignetConfig config) throws IOException {
    Optional<AdminClient> api = AdminClient.ofRunningRelay(config);
    return api.isPresent() ? new ViaApi(api.get()) : new Direct(config.spool().dir());
  }

  abstract boolean viaRelay();

  abstract List<Suppressions.Entry> list() throws IOException, InterruptedException;

  /** Suppresses {@code addresses} for {@code ttl}; returns how many. */
  abstract int add(List<String> addresses, Duration ttl, String reason) throws IOException, InterruptedException;

  abstract boolean remove(String address) throws IOException, InterruptedException;

  /** A running relay, through its admin API. */
  static final class ViaApi extends SuppressionControl {
    private final AdminClient api;

    ViaApi(AdminClient api) {
      this.api = api;
    }

    @Override
    boolean viaRelay() {
      return true;
    }

    @Override
    List<Suppressions.Entry> list() throws IOException, InterruptedException {
      List<Suppressions.Entry> out = new ArrayList<>();
      for (int offset = 0; ; ) {
        JsonNode page = api.get("suppressions?offset=" + offset + "&limit=100000");
        for (JsonNode e : page.get("suppressions")) {
          out.add(new Suppressions.Entry(e.get("address").asText(), Instant.parse(e.get("since").asText()),
              Instant.parse(e.get("until").asText()), e.get("reason").asText()));
        }
        offset += page.get("suppressions").size();
        if (page.get("suppressions").isEmpty() || offset >= page.get("total").asInt()) {
          return out;
        }
      }
    }

    @Override
    int add(List<String> addresses, Duration ttl, String reason) throws IOException, InterruptedException {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("addresses", addresses);
      body.put("ttl", ttl.toSeconds() + "s");
      body.put("reason", reason);
      return api.post("suppressions", body).get("added").asInt();
    }

    @Override
    boolean remove(String address) throws IOException, InterruptedException {
      try {
        api.delete("suppressions/" + AdminClient.encode(address));
        return true;
      } catch (AdminClient.ApiFailure e) {
        if (e.status == 404) {
          return false;
        }
        throw e;
      }
    }
  }

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
