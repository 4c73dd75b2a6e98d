package dev.signet.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventTest {

  @Test
  void idsAreDistinctRandomUuids() {
    Set<String> ids = new HashSet<>();
    int[] ones = new int[128];
    int n = 20_000; // five refills of the pool
    for (int i = 0; i < n; i++) {
      String id = Event.of(Event.Type.ACCEPTED, Instant.EPOCH, "Q", null, "a@example.com", "b@example.org", 0).id();
      UUID uuid = UUID.fromString(id);
      assertEquals(id, uuid.toString());
      assertEquals(4, uuid.version(), id);
      assertEquals(2, uuid.variant(), id);
      assertTrue(ids.add(id), id);
      for (int bit = 0; bit < 64; bit++) {
        ones[bit] += (int) (uuid.getMostSignificantBits() >>> bit & 1);
        ones[64 + bit] += (int) (uuid.getLeastSignificantBits() >>> bit & 1);
      }
    }
    for (int bit = 0; bit < 128; bit++) {
      boolean fixed = bit >= 12 && bit < 16 || bit >= 126; // version and variant
      if (!fixed) {
        assertTrue(Math.abs(ones[bit] - n / 2) < n / 20, "bit " + bit + " set in " + ones[bit] + " of " + n);
      }
    }
  }
}
