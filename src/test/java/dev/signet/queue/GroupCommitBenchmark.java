package dev.signet.queue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Spool accepts per second, 20 threads, 4 kB messages, fsync on: group commit vs one directory
 * fsync per message. A measurement, not a test: {@code mvn test -Dtest=GroupCommitBenchmark -Dbench=true}
 * (optionally {@code -Dbench.dir=/some/disk}; the default is the system temp directory).
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class GroupCommitBenchmark {

  @Test
  void measure() throws Exception {
    Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir"))),
        "spool-bench");
    for (int round = 0; round < 2; round++) {
      for (boolean group : new boolean[] {false, true}) {
        run(base.resolve("r" + round + (group ? "-group" : "-single")), group, 20, 100);
      }
    }
  }

  private static void run(Path dir, boolean group, int threads, int each) throws Exception {
    byte[] body = new byte[4096];
    java.util.Arrays.fill(body, (byte) 'x');
    try (Spool spool = Spool.open(dir, group)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      long start = System.nanoTime();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < each; i++) {
            try (Incoming in = spool.receive()) {
              try (OutputStream out = in.body()) {
                out.write(body);
              }
              in.headers("From: a@example.com\r\n\r\n".getBytes());
              spool.accept(in, SpoolTest.envelope(in.id(), in.size(), "b@example.org"));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      pool.shutdown();
      long[] stats = spool.commitStats();
      System.out.printf("%s commit: %d messages in %.2f s = %.0f accepts/s; %d directory fsyncs%n",
          group ? "group " : "single", threads * each, seconds, threads * each / seconds, stats[0]);
    }
  }
}
