package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A wrong user name costs what a wrong password costs: AUTH does not tell which users exist. */
class AuthTimingTest {
  @TempDir Path dir;

  @Test
  void unknownUsersAreCheckedAtTheCostOfTheStoredHashes() throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, String.join("\n",
        Users.line("a", "x".toCharArray(), List.of("example.com"), 5),
        Users.line("b", "x".toCharArray(), List.of("example.com"), 6),
        Users.line("c", "x".toCharArray(), List.of("example.com"), 6)) + "\n");
    assertEquals(6, Users.load(file).dummyCost(), "the cost most users have");
    assertEquals(Users.DEFAULT_COST, Users.cost(
        SubmissionServer.usersFileLine("d", "x".toCharArray(), List.of("example.com")).split(":")[1]));
  }

  /**
   * At the cost `signet user add` writes (12, about a quarter second), the fastest wrong-password and
   * unknown-user checks lie within a factor 2 of each other; a dummy two cost steps cheaper, as before,
   * was 4 times faster. The minimum of several interleaved runs is what load on a shared machine
   * disturbs least (load only ever adds time).
   */
  @Test
  void wrongNameAndWrongPasswordTakeTheSameTime() throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, SubmissionServer.usersFileLine("alice", "secret".toCharArray(), List.of("example.com")) + "\n");
    Users users = Users.load(file);
    int runs = 7;
    long[] known = new long[runs];
    long[] unknown = new long[runs];
    for (int i = 0; i < runs; i++) {
      known[i] = nanos(() -> users.verify("alice", "wrong").isPresent());
      unknown[i] = nanos(() -> users.verify("mallory", "wrong").isPresent());
    }
    double ratio = (double) Arrays.stream(known).min().getAsLong() / Arrays.stream(unknown).min().getAsLong();
    assertTrue(ratio > 0.5 && ratio < 2, "known/unknown fastest-run ratio " + ratio
        + " known " + Arrays.toString(known) + " unknown " + Arrays.toString(unknown));
  }

  private static long nanos(Supplier<Boolean> check) {
    long start = System.nanoTime();
    assertTrue(!check.get());
    return System.nanoTime() - start;
  }

}
