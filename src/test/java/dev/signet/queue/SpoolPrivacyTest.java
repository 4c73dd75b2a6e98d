package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mail in the spool is readable by the relay's user only; /healthz sees what stops accepting. */
class SpoolPrivacyTest {
  @TempDir Path dir;

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void messageFilesAre0600AndDirectories0700() throws Exception {
    Path root = dir.resolve("spool");
    try (Spool spool = Spool.open(root)) {
      String small = SpoolTest.spool(spool, "x\r\n".getBytes(), "a@example.org");
      String large = SpoolTest.spool(spool, new byte[Incoming.MEMORY_LIMIT + 10], "b@example.org"); // spilled to tmp/
      spool.update(spool.envelope(small)); // written to tmp/ as .env, renamed into queue/
      List<Path> files;
      try (Stream<Path> s = Files.list(root.resolve("queue"))) {
        files = s.toList();
      }
      assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().equals(small + ".env")), files.toString());
      assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().equals(large + ".msg")), files.toString());
      for (Path f : files) {
        assertEquals("rw-------", mode(f), f.toString());
      }
      for (String d : List.of("", "tmp", "queue", "corrupt")) {
        assertEquals("rwx------", mode(root.resolve(d)), "spool/" + d);
      }
      assertEquals("rw-------", mode(root.resolve("lock")));
    }
  }

  @Test
  void anOlderSpoolsOpenDirectoriesAreMadePrivate() throws Exception {
    Path root = dir.resolve("spool");
    for (String d : List.of("tmp", "queue", "corrupt")) {
      Files.createDirectories(root.resolve(d));
      Files.setPosixFilePermissions(root.resolve(d), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (Spool spool = Spool.open(root)) {
      for (String d : List.of("", "tmp", "queue", "corrupt")) {
        assertEquals("rwx------", mode(root.resolve(d)), "spool/" + d);
      }
    }
  }

  /** queue/ unusable at run time: every message gets 451, so /healthz must not say 200. */
  @Test
  void theProbeFailsWhenMessagesCannotBeRenamedIntoTheQueue() throws Exception {
    Path root = dir.resolve("spool");
    try (Spool spool = Spool.open(root)) {
      assertEquals(Optional.empty(), spool.probe());
      Path queue = root.resolve("queue");
      Files.delete(queue);
      Files.writeString(queue, "not a directory"); // fails for root too, unlike a chmod
      assertThrows(IOException.class, () -> SpoolTest.spool(spool, "x\r\n".getBytes(), "a@example.org"));
      Optional<String> problem = spool.probe();
      assertTrue(problem.isPresent() && problem.get().startsWith("cannot move messages into " + queue), problem.toString());
      try (Stream<Path> s = Files.list(root.resolve("tmp"))) {
        assertEquals(List.of(), s.toList(), "the probe leaves nothing behind");
      }
      Files.delete(queue);
      Files.createDirectory(queue);
      assertEquals(Optional.empty(), spool.probe());
    }
  }
}
