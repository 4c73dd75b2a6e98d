package dev.signet.queue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Spool accepts per second with fsync on, 4 KB messages, 20 threads (sessions) at once: group commit
 * (one directory fsync for a batch of renames, the relay's way) against one directory fsync per
 * message. ops/s = messages accepted per second, all threads together; the teardown prints how many
 * directory fsyncs each trial made. In package {@code queue} because the choice between the two
 * commit modes ({@code Spool.open(dir, groupCommit)}) is not public.
 *
 * <p>Not part of {@code run.sh}'s default suite (that measures the signing engine, one thread per
 * benchmark). Run it on the disk the spool will live on:
 * {@code java -Dbench.dir=/var/spool/x -jar bench/jmh/target/benchmarks.jar GroupCommitBench}
 * (the default directory is the system temp directory).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Threads(20)
public class GroupCommitBench {
  @Param({"true", "false"})
  public boolean groupCommit;

  private static final byte[] HEADERS = "From: a@example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private final byte[] body = new byte[4096];
  private Path dir;
  private Spool spool;

  @Setup(Level.Trial)
  public void open() throws IOException {
    Arrays.fill(body, (byte) 'x');
    Path base = Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir")));
    dir = Files.createTempDirectory(base, "spool-bench");
    spool = Spool.open(dir, groupCommit);
  }

  @Benchmark
  public String accept() throws IOException {
    try (Incoming in = spool.receive()) {
      try (OutputStream out = in.body()) {
        out.write(body);
      }
      in.headers(HEADERS);
      spool.accept(in, Envelope.received(in.id(), "a@example.com", List.of("b@example.org"), "127.0.0.1",
          Optional.of("client.example"), Optional.empty(), Instant.now(), in.size(),
          List.of("d=example.com s=rsa2026 a=rsa-sha256")));
      return in.id();
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    long[] stats = spool.commitStats();
    System.out.printf("%n%s commit: %d directory fsyncs for %d commits%n", groupCommit ? "group" : "single",
        stats[0], stats[1]);
    spool.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
