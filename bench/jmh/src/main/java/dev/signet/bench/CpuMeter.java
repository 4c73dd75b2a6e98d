package dev.signet.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.TreeMap;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Operations per CPU-second of the benchmark thread, next to JMH's operations per wall-second. On a shared
 * machine the benchmark thread gets a varying share of a core, so wall-clock rates of two benchmarks measured a
 * minute apart are not comparable; rates per CPU-second of the thread mostly are (what remains: cache and SMT
 * interference from the neighbours). Each benchmark method counts its operations here; every measurement
 * iteration appends "benchmark TAB ops TAB thread-cpu-nanos" to the file named by -Dsignet.bench.cpu.
 */
@State(Scope.Thread)
public class CpuMeter {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  public long ops;
  private long cpuStart;

  @Setup(Level.Iteration)
  public void start() {
    ops = 0;
    cpuStart = THREADS.getCurrentThreadCpuTime();
  }

  @TearDown(Level.Iteration)
  public void stop(BenchmarkParams benchmark, IterationParams iteration) throws IOException {
    long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
    String file = System.getProperty("signet.bench.cpu");
    if (file == null || iteration.getType() != IterationType.MEASUREMENT) {
      return;
    }
    Files.writeString(Path.of(file), name(benchmark) + "\t" + ops + "\t" + cpu + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** "Class.method [k=v,...]", the row name report.py uses. */
  static String name(BenchmarkParams benchmark) {
    String[] parts = benchmark.getBenchmark().split("\\.");
    String name = parts[parts.length - 2] + "." + parts[parts.length - 1];
    TreeMap<String, String> params = new TreeMap<>();
    for (String key : benchmark.getParamsKeys()) {
      params.put(key, benchmark.getParam(key));
    }
    if (params.isEmpty()) {
      return name;
    }
    StringBuilder s = new StringBuilder(name).append(" [");
    params.forEach((k, v) -> s.append(k).append('=').append(v).append(','));
    s.setLength(s.length() - 1);
    return s.append(']').toString();
  }
}
