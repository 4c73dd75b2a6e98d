package dev.signet.shaping;

import dev.signet.metrics.Metrics;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The counters of a fleet, in Redis ({@code delivery.shaping-redis}): every instance takes its rate
 * tokens, session slots and backoff clamps from the same keys, so N instances together keep one
 * provider budget. Each operation is one Lua script, atomic on the server (no read-modify-write race
 * between instances). Time comes from the caller's clock; the bucket only moves forward in time, so
 * an instance whose clock lags refills nothing rather than too much.
 *
 * <p>When Redis cannot be reached, delivery goes on: each instance counts on its own with its
 * {@code 1 / fleet-size} share of every limit, logs the switch, shows it in
 * {@code signet_shaping_redis_up}, and tries Redis again every {@link #RETRY}.
 *
 * <p>Keys: {@code signet:shaping:{group}:rate} (hash: tokens, time), {@code ...:sessions} (sorted set of
 * session slots scored by expiry, so the slots of a crashed instance free themselves after
 * {@link #SLOT_LIFE}), {@code ...:clamps} (hash: action kind → action|until|rule).
 */
final class RedisBudget implements Budget {
  private static final Logger log = LoggerFactory.getLogger(RedisBudget.class);
  static final Duration RETRY = Duration.ofSeconds(5);
  static final Duration SLOT_LIFE = Duration.ofMinutes(10);
  private static final int TIMEOUT_MILLIS = 500;

  private static final String TAKE = """
      local cap = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
      local b = redis.call('HMGET', KEYS[1], 't', 'at')
      local tokens = tonumber(b[1]); local at = tonumber(b[2])
      if tokens == nil or at == nil then tokens = cap; at = now end
      if now > at then tokens = tokens + (now - at) * rate; at = now end
      if tokens > cap then tokens = cap end
      local wait = 0
      if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
      redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', string.format('%d', at))
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      return wait
      """;
  private static final String OPEN = """
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
      if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
      redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
      redis.call('PEXPIRE', KEYS[1], ARGV[5])
      return 1
      """;
  private static final String CLAMP = """
      local old = redis.call('HGET', KEYS[1], ARGV[1])
      if old then
        local u = tonumber(string.match(old, '^[^|]*|(%d+)|'))
        if u and u >= tonumber(ARGV[3]) then return 0 end
      end
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4])
      local ttl = redis.call('PTTL', KEYS[1])
      local want = tonumber(ARGV[3]) - tonumber(ARGV[5])
      if ttl < want then redis.call('PEXPIRE', KEYS[1], string.format('%d', want)) end
      return 1
      """;

  private final JedisPooled redis;
  /**
   * At most as many callers in Redis at once as the pool holds connections. commons-pool2 2.12's
   * GenericObjectPool.create spins, without waiting, while more callers than that want a connection
   * and one is still being made (its remaining wait goes negative): on virtual threads the spinning
   * callers can hold every carrier, so the one making the connection never runs again, and delivery
   * stops. Callers beyond the pool's size wait here instead, parked.
   */
  private final Semaphore inRedis = new Semaphore(POOL_SIZE);
  private final String where;
  private final int fleetSize;
  private final LocalBudget fallback = new LocalBudget();
  private final String instance = UUID.randomUUID().toString();
  private final AtomicLong slots = new AtomicLong();
  private final Map<String, String> shas = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean up = true;
  private volatile long retryAt;

  /** Jedis's default pool size (GenericObjectPoolConfig.DEFAULT_MAX_TOTAL). */
  private static final int POOL_SIZE = 8;

  private RedisBudget(JedisPooled redis, String where, int fleetSize) {
    this.redis = redis;
    this.where = where;
    this.fleetSize = fleetSize;
  }

  /** A budget in the Redis at {@code uri} ({@code redis://[:password@]host[:port][/db]}). */
  static RedisBudget connect(String uri, int fleetSize, Metrics metrics) throws ShapingException {
    URI u;
    try {
      u = new URI(uri.trim());
    } catch (URISyntaxException e) {
      throw new ShapingException("delivery.shaping-redis: expected redis://host:port, got '" + uri + "'");
    }
    if (!"redis".equals(u.getScheme()) || u.getHost() == null) {
      throw new ShapingException("delivery.shaping-redis: expected redis://host:port, got '" + uri + "'");
    }
    DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis(TIMEOUT_MILLIS).socketTimeoutMillis(TIMEOUT_MILLIS).clientName("signet");
    if (u.getUserInfo() != null) {
      String[] parts = u.getUserInfo().split(":", 2);
      if (parts.length == 2 && !parts[0].isEmpty()) {
        config.user(parts[0]);
      }
      config.password(parts[parts.length - 1]);
    }
    if (u.getPath() != null && u.getPath().length() > 1) {
      try {
        config.database(Integer.parseInt(u.getPath().substring(1)));
      } catch (NumberFormatException e) {
        throw new ShapingException("delivery.shaping-redis: the path must be a database number, got '" + uri + "'");
      }
    }
    String where = u.getHost() + ":" + (u.getPort() > 0 ? u.getPort() : 6379);
    RedisBudget budget = new RedisBudget(new JedisPooled(new HostAndPort(u.getHost(), u.getPort() > 0 ? u.getPort() : 6379),
        config.build()), where, fleetSize);
    try {
      budget.redis.ping();
      log.info("shaping: counters shared through Redis at {}", where);
    } catch (JedisException e) {
      budget.down(e); // start anyway: delivery never waits for Redis
    }
    return budget;
  }

  /** Runs {@code op} on the pool, with at most {@link #POOL_SIZE} callers in it at once. */
  private <T> T call(java.util.function.Function<JedisPooled, T> op) {
    inRedis.acquireUninterruptibly();
    try {
      return op.apply(redis);
    } finally {
      inRedis.release();
    }
  }

  private static String key(String group, String what) {
    return "signet:shaping:{" + group + "}:" + what; // one hash slot per group (Redis Cluster)
  }

  /** Runs a script; null when Redis is down (then the caller counts locally). */
  private Object run(String script, String key, String... args) {
    if (!up && System.currentTimeMillis() < retryAt) {
      return null;
    }
    try {
      String sha = shas.computeIfAbsent(script, s -> call(r -> r.scriptLoad(s)));
      Object result;
      try {
        result = call(r -> r.evalsha(sha, List.of(key), List.of(args)));
      } catch (JedisDataException e) {
        if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
          throw e;
        }
        result = call(r -> r.eval(script, List.of(key), List.of(args))); // Redis restarted: scripts are gone
        shas.remove(script);
      }
      if (!up) {
        up = true;
        log.warn("shaping: Redis at {} answers again; counters are shared by the fleet", where);
      }
      return result;
    } catch (JedisException e) {
      shas.remove(script);
      down(e);
      return null;
    }
  }

  private void down(JedisException e) {
    retryAt = System.currentTimeMillis() + RETRY.toMillis();
    if (up) {
      up = false;
      log.error("shaping: Redis at {} unreachable ({}); each instance keeps 1/{} of every limit until it is back",
          where, e.getMessage(), fleetSize);
    }
  }

  @Override
  public boolean shared() {
    return up;
  }

  @Override
  public Optional<Instant> take(String group, Rate rate, Instant now) {
    double perMilli = rate.perNano() * 1_000_000;
    Object wait = run(TAKE, key(group, "rate"), Long.toString(rate.count()), Double.toString(perMilli),
        Long.toString(now.toEpochMilli()), Long.toString(Math.max(1000, rate.per().toMillis() * 2)));
    if (wait == null) {
      return fallback.take(group, share(rate), now);
    }
    long ms = (Long) wait;
    return ms == 0 ? Optional.empty() : Optional.of(now.plusMillis(ms));
  }

  private Rate share(Rate rate) {
    return new Limits(1, 1, Optional.of(rate), 1).share(fleetSize).rate().orElseThrow();
  }

  @Override
  public Optional<String> open(String group, int max, Instant now) {
    String slot = instance + ":" + slots.incrementAndGet();
    Object ok = run(OPEN, key(group, "sessions"), Integer.toString(max), Long.toString(now.toEpochMilli()),
        Long.toString(now.plus(SLOT_LIFE).toEpochMilli()), slot, Long.toString(SLOT_LIFE.toMillis()));
    if (ok == null) {
      return fallback.open(group, Math.max(1, max / fleetSize), now).map(s -> "local:" + s);
    }
    return (Long) ok == 1 ? Optional.of(slot) : Optional.empty();
  }

  @Override
  public void release(String group, String slot) {
    if (slot.startsWith("local:")) {
      fallback.release(group, slot);
      return;
    }
    if (up) {
      try {
        call(r -> r.zrem(key(group, "sessions"), slot));
      } catch (JedisException e) {
        down(e); // the slot expires by itself (SLOT_LIFE)
      }
    }
  }

  @Override
  public int sessions(String group, Instant now) {
    if (!up && System.currentTimeMillis() < retryAt) {
      return fallback.sessions(group, now);
    }
    try {
      return (int) (long) call(r -> r.zcount(key(group, "sessions"), now.toEpochMilli(), Double.POSITIVE_INFINITY));
    } catch (JedisException e) {
      down(e);
      return fallback.sessions(group, now);
    }
  }

  @Override
  public void clamp(String group, Clamp clamp, Instant now) {
    fallback.clamp(group, clamp, now); // kept locally too: it holds while Redis is away
    String text = switch (clamp.action()) {
      case Backoff.Action.Suspend s -> "suspend";
      case Backoff.Action.LowerRate r -> "rate " + r.rate();
      case Backoff.Action.LowerConnections c -> "connections " + c.connections();
      case Backoff.Action.None n -> "none";
    };
    run(CLAMP, key(group, "clamps"), clamp.action().getClass().getSimpleName(), text,
        Long.toString(clamp.until().toEpochMilli()), clamp.rule().replace("|", "_"),
        Long.toString(now.toEpochMilli()));
  }

  @Override
  public List<Clamp> clamps(String group, Instant now) {
    List<Clamp> local = fallback.clamps(group, now);
    if (!up && System.currentTimeMillis() < retryAt) {
      return local;
    }
    Map<String, String> fields;
    try {
      fields = call(r -> r.hgetAll(key(group, "clamps")));
    } catch (JedisException e) {
      down(e);
      return local;
    }
    List<Clamp> all = new ArrayList<>();
    for (String value : fields.values()) {
      String[] parts = value.split("\\|", 3);
      if (parts.length < 3) {
        continue;
      }
      try {
        Instant until = Instant.ofEpochMilli(Long.parseLong(parts[1]));
        if (until.isAfter(now)) {
          all.add(new Clamp(Backoff.Action.parse(parts[0]), until, parts[2]));
        }
      } catch (IllegalArgumentException e) {
        log.warn("shaping: ignoring a clamp in Redis that does not parse: {}", value);
      }
    }
    return all.isEmpty() ? local : all;
  }

  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "Redis at " + where + (up ? "" : " (unreachable: per-instance shares, 1/" + fleetSize + ")");
  }
}
