package dev.signet.shaping;

import dev.signet.metrics.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provider-aware traffic shaping (docs/ARCHITECTURE.md, "Shaping"). After the MX lookup the sender asks
 * {@link #destination} which group a delivery belongs to: a provider whose MX host name suffix matches
 * (fifty Google Workspace domains share one Google budget), else the domain on its own. Before each
 * message it asks {@link #admit} (suspension, rate), before each new session {@link #open}
 * (connections), and after each reply it reports it to {@link #observe}, where the shaping file's
 * backoff rules suspend or slow a group for a while. Counters live in a {@link Budget}: this process's,
 * or Redis's when {@code delivery.shaping-redis} shares them across a fleet. Thread-safe.
 */
public final class Shaping implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Shaping.class);
  /** The shipped shaping file, in the jar; conf/shaping.yaml is a link to it for readers of the repo. */
  static final String BUILT_IN = "/dev/signet/shaping/shaping.yaml";
  /** A delivery that found every connection of its group busy comes back after about this long. */
  static final Duration BUSY_RETRY = Duration.ofSeconds(1);

  private final ShapingFile.Rules rules;
  private final Budget budget;
  private final Clock clock;
  private final Metrics metrics;
  private final RandomGenerator random;

  Shaping(ShapingFile.Rules rules, Budget budget, Clock clock, Metrics metrics, RandomGenerator random) {
    this.rules = rules;
    this.budget = budget;
    this.clock = clock;
    this.metrics = metrics;
    this.random = random;
    if (metrics != null) {
      metrics.shaping(providers(), this::suspended, budget instanceof RedisBudget ? budget::shared : null);
    }
  }

  /** The shipped rules, counted in this process only (tests, and relays built without a config). */
  public static Shaping builtIn(Clock clock) {
    try {
      return new Shaping(ShapingFile.read(List.of(builtInSource())), new LocalBudget(), clock, null,
          RandomGenerator.getDefault());
    } catch (ShapingException e) {
      throw new IllegalStateException("the built-in shaping file is broken: " + e.getMessage(), e);
    }
  }

  /**
   * The shipped rules with {@code file} laid over them, counted in Redis if {@code redis} names one.
   *
   * @param metrics may be null
   * @throws ShapingException naming the file, line and key at fault, or a bad Redis address
   */
  public static Shaping load(Optional<Path> file, Optional<String> redis, Clock clock, Metrics metrics)
      throws ShapingException {
    List<ShapingFile.Source> sources = new ArrayList<>();
    sources.add(builtInSource());
    file.ifPresent(f -> sources.add(new ShapingFile.Source(f.toString(), () -> Files.newInputStream(f))));
    ShapingFile.Rules rules = ShapingFile.read(sources);
    Budget budget = redis.isPresent() ? RedisBudget.connect(redis.get(), rules.fleetSize(), metrics) : new LocalBudget();
    return new Shaping(rules, budget, clock, metrics, RandomGenerator.getDefault());
  }

  private static ShapingFile.Source builtInSource() {
    return new ShapingFile.Source("built-in shaping.yaml", () -> {
      var in = Shaping.class.getResourceAsStream(BUILT_IN);
      if (in == null) {
        throw new java.io.FileNotFoundException(BUILT_IN + " is missing from the jar");
      }
      return in;
    });
  }

  /** The providers of the shaping file, the closed set of {@code provider} label values with {@code default}. */
  public List<String> providers() {
    List<String> names = new ArrayList<>(rules.providers().keySet());
    names.add(Destination.DEFAULT);
    return names;
  }

  /**
   * The group of a delivery to {@code domain} whose MX hosts are {@code mxHosts} (most preferred first):
   * the provider of the first host a suffix rule matches; else the domain itself. A domain with its own
   * overrides in the shaping file is a group of its own, with its provider's limits overridden.
   */
  public Destination destination(String domain, List<String> mxHosts) {
    String d = domain.toLowerCase(Locale.ROOT);
    ShapingFile.Provider provider = null;
    for (String host : mxHosts) {
      provider = provider(host);
      if (provider != null) {
        break;
      }
    }
    ShapingFile.Overrides own = rules.domains().get(d);
    Limits base = provider == null ? rules.defaults() : provider.limits();
    String label = provider == null ? Destination.DEFAULT : provider.name();
    if (own != null) {
      return new Destination("domain:" + d, label, own.over(base));
    }
    return provider == null ? new Destination("domain:" + d, label, base) : new Destination(provider.name(), label, base);
  }

  private ShapingFile.Provider provider(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (ShapingFile.Provider p : rules.providers().values()) {
      for (String suffix : p.mx()) {
        if (suffix.startsWith(".") ? h.endsWith(suffix) || h.equals(suffix.substring(1)) : h.equals(suffix) || h.endsWith("." + suffix)) {
          return p;
        }
      }
    }
    return null;
  }

  /**
   * May one more message go to {@code destination} now? Empty: yes, and its rate token is taken.
   * Otherwise the hold: the group is suspended or out of tokens until then.
   */
  public Optional<Hold> admit(Destination destination) {
    if (!destination.shaped()) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    List<Budget.Clamp> clamps = budget.clamps(destination.group(), now);
    Optional<Rate> rate = destination.limits().rate();
    for (Budget.Clamp c : clamps) {
      switch (c.action()) {
        case Backoff.Action.Suspend s -> {
          return Optional.of(held(destination, c.until(), now, "suspended (rule " + c.rule() + ")"));
        }
        case Backoff.Action.LowerRate r -> rate = Optional.of(rate.map(x -> x.min(r.rate())).orElse(r.rate()));
        default -> { }
      }
    }
    if (rate.isEmpty()) {
      return Optional.empty();
    }
    Rate effective = rate.get();
    Optional<Instant> next = budget.take(destination.group(), effective, now);
    return next.map(t -> held(destination, t, now, "rate " + effective));
  }

  /**
   * A place for one more session to {@code destination}, or empty when its group has all its
   * connections open (close idle kept sessions of the group and ask again, or hold the delivery:
   * {@link #busy}).
   */
  public Optional<Lease> open(Destination destination) {
    if (!destination.shaped()) {
      return Optional.of(new Lease(() -> { }, Integer.MAX_VALUE));
    }
    int max = connections(destination, clock.instant());
    Optional<String> slot = budget.open(destination.group(), max, clock.instant());
    return slot.map(s -> new Lease(() -> budget.release(destination.group(), s),
        destination.limits().messagesPerConnection()));
  }

  /**
   * True while {@code destination}'s group has more sessions open than it may now (a backoff rule
   * lowered its connections): the sender closes idle ones and keeps no more until it is back within.
   */
  public boolean excess(Destination destination) {
    if (!destination.shaped()) {
      return false;
    }
    Instant now = clock.instant();
    return budget.sessions(destination.group(), now) > connections(destination, now);
  }

  /** The hold for a delivery that found no free connection in its group. */
  public Hold busy(Destination destination) {
    Instant now = clock.instant();
    return held(destination, now.plus(BUSY_RETRY), now, "connections " + connections(destination, now));
  }

  private int connections(Destination destination, Instant now) {
    int max = destination.limits().connections();
    for (Budget.Clamp c : budget.clamps(destination.group(), now)) {
      if (c.action() instanceof Backoff.Action.LowerConnections l) {
        max = Math.min(max, l.connections());
      }
    }
    return max;
  }

  /** A hold until {@code until} plus up to a fifth of the wait again, so held mail comes back spread out. */
  private Hold held(Destination destination, Instant until, Instant now, String reason) {
    long wait = Math.max(0, Duration.between(now, until).toNanos());
    long jitter = (long) (random.nextDouble() * Math.max(wait / 5, Duration.ofMillis(50).toNanos()));
    if (metrics != null) {
      metrics.throttled(destination.provider());
    }
    return new Hold(destination.provider(), until.plusNanos(jitter), reason);
  }

  /** A reply from one of {@code destination}'s servers: the backoff rules it matches take effect. */
  public void observe(Destination destination, int code, String status, String text) {
    if (!destination.shaped() || code < 400) {
      return;
    }
    Instant now = clock.instant();
    for (Backoff rule : rules.backoff()) {
      if (rule.appliesTo(destination) && rule.matches(code, status, text)) {
        Instant until = now.plus(rule.duration());
        budget.clamp(destination.group(), new Budget.Clamp(rule.action(), until, rule.name()), now);
        log.warn("shaping: provider={} group={} rule={} action={} until={} after reply \"{} {} {}\"",
            destination.provider(), destination.group(), rule.name(), describe(rule.action()), until, code, status,
            text.replace("\"", "'"));
      }
    }
  }

  private static String describe(Backoff.Action action) {
    return switch (action) {
      case Backoff.Action.Suspend s -> "suspend";
      case Backoff.Action.LowerRate r -> "rate " + r.rate();
      case Backoff.Action.LowerConnections c -> "connections " + c.connections();
      case Backoff.Action.None n -> "none";
    };
  }

  /** True while a backoff rule suspends {@code provider}'s group (for the suspended gauge). */
  public boolean suspended(String provider) {
    if (!rules.providers().containsKey(provider)) {
      return false;
    }
    return budget.clamps(provider, clock.instant()).stream().anyMatch(c -> c.action() instanceof Backoff.Action.Suspend);
  }

  /** Where the counters are kept, for the start-up log line. */
  public String describeBudget() {
    return budget.toString();
  }

  /** Each provider's limits, for the start-up log line. */
  public Map<String, Limits> limits() {
    Map<String, Limits> all = new java.util.LinkedHashMap<>();
    rules.providers().forEach((name, p) -> all.put(name, p.limits()));
    all.put(Destination.DEFAULT, rules.defaults());
    return all;
  }

  @Override
  public void close() {
    budget.close();
  }
}
