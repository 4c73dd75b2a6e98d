package dev.signet.net;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read and write timeouts, and whole-session deadlines, for sockets used from virtual threads, kept
 * by one platform thread instead of each socket's own read timeout (SO_TIMEOUT) and a timer task per
 * write or session. On a virtual thread a read with a timeout arms a timer in the JDK's scheduler and
 * disarms it when the data comes, and each of the two wakes the scheduler's thread; a timer task per
 * write wakes a timer thread. At one message per SMTP session that was about a tenth of the CPU per
 * message (docs/ARCHITECTURE.md, "Packages", net). Here a read or a write only notes when it started and
 * ended (a volatile write each), and the {@code signet-io-deadlines} thread looks at every watched
 * socket each tick:
 *
 * <ul>
 *   <li>a read that has waited longer than its limit: the socket's input is shut, and the read throws
 *       {@link SocketTimeoutException}, as it would with SO_TIMEOUT (SubEthaSMTP then answers 421; a
 *       delivery reports the timeout);</li>
 *   <li>a write that has waited longer than its limit: the socket is closed, and the write throws
 *       {@link SocketTimeoutException};</li>
 *   <li>a socket past its deadline: closed, and its deadline action runs.</li>
 * </ul>
 *
 * <p>Precision is one tick: a quarter of the shortest limit ever set, between 10 and 250 ms. Time is
 * {@link System#nanoTime}. Thread-safe.
 */
public final class IoDeadlines implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IoDeadlines.class);
  private static final long NOT_WAITING = Long.MIN_VALUE;
  private static final long NONE = 0;
  private static final long MAX_TICK = 250_000_000L;
  private static final long MIN_TICK = 10_000_000L;

  private final Set<Watched> watched = ConcurrentHashMap.newKeySet();
  private final AtomicLong tick = new AtomicLong(MAX_TICK);
  private final Thread thread;
  private volatile boolean closed;

  /** Starts the watch thread ({@code name}, a daemon). */
  public IoDeadlines(String name) {
    thread = Thread.ofPlatform().daemon().name(name).start(this::run);
  }

  /**
   * Watches {@code socket} from now until it is closed (or {@link Watched#close}): its streams must
   * be read and written through {@link Watched#input} and {@link Watched#output}.
   */
  public Watched watch(Socket socket) {
    Watched w = new Watched(socket);
    watched.add(w);
    return w;
  }

  /**
   * A plain TCP socket, not yet connected, whose streams go through its {@link Watched} and which
   * leaves the watch when closed. Registered at construction (the watch thread sees an unconnected,
   * open socket with no read or write under way: nothing to do). Subclass it to add to the socket.
   */
  public static class WatchedSocket extends Socket {
    private final Watched watched;
    private InputStream in;
    private OutputStream out;

    public WatchedSocket(IoDeadlines deadlines) {
      watched = deadlines.watch(this);
    }

    /** This socket's limits. */
    public Watched watched() {
      return watched;
    }

    @Override
    public synchronized InputStream getInputStream() throws IOException {
      if (in == null) {
        in = watched.input(super.getInputStream());
      }
      return in;
    }

    @Override
    public synchronized OutputStream getOutputStream() throws IOException {
      if (out == null) {
        out = watched.output(super.getOutputStream());
      }
      return out;
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        watched.close();
      }
    }
  }

  /** Sockets watched now (for tests: a closed socket leaves within a tick). */
  public int size() {
    return watched.size();
  }

  private void shortest(long nanos) {
    long t = Math.max(MIN_TICK, Math.min(MAX_TICK, nanos / 4));
    tick.accumulateAndGet(t, Math::min);
  }

  private void run() {
    while (!closed) {
      long now = System.nanoTime();
      for (Watched w : watched) {
        try {
          w.check(now);
        } catch (RuntimeException e) {
          log.error("io deadlines: checking a socket failed", e);
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(tick.get());
    }
  }

  /** Stops the watch thread; sockets still watched keep their streams but lose their limits. */
  @Override
  public void close() {
    closed = true;
    java.util.concurrent.locks.LockSupport.unpark(thread);
  }

  /** The limits of one socket and the time its current read and write started. */
  public final class Watched implements AutoCloseable {
    private final Socket socket;
    private volatile long readLimit = NONE;
    private volatile long writeLimit = NONE;
    private volatile long readingSince = NOT_WAITING;
    private volatile long writingSince = NOT_WAITING;
    private volatile long deadline = NONE;
    private volatile Runnable atDeadline = () -> {};
    // Set once, by the watch thread, before it shuts the input or closes the socket.
    private volatile String timedOut;

    private Watched(Socket socket) {
      this.socket = socket;
    }

    /** How long a read may wait for data; null or zero for no limit. */
    public Watched readLimit(Duration limit) {
      readLimit = nanos(limit);
      return this;
    }

    /** How long a write may wait for the peer to take data; null or zero for no limit. */
    public Watched writeLimit(Duration limit) {
      writeLimit = nanos(limit);
      return this;
    }

    /** Closes the socket {@code after} from now, and runs {@code action} (on the watch thread; quick). */
    public Watched deadline(Duration after, Runnable action) {
      atDeadline = action;
      deadline = System.nanoTime() + Math.max(1, nanos(after));
      return this;
    }

    private long nanos(Duration limit) {
      if (limit == null || limit.isZero() || limit.isNegative()) {
        return NONE;
      }
      long n = limit.toNanos();
      shortest(n);
      return n;
    }

    /** {@code in} (the socket's input stream), timed. */
    public InputStream input(InputStream in) {
      return new FilterInputStream(in) {
        @Override
        public int read() throws IOException {
          readingSince = System.nanoTime();
          try {
            return in.read();
          } catch (IOException e) {
            throw timedOut(e);
          } finally {
            readingSince = NOT_WAITING;
          }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          readingSince = System.nanoTime();
          int n;
          try {
            n = in.read(b, off, len);
          } catch (IOException e) {
            throw timedOut(e);
          } finally {
            readingSince = NOT_WAITING;
          }
          if (n < 0 && timedOut != null) {
            throw timedOut(new SocketException("input shut"));
          }
          return n;
        }
      };
    }

    /** {@code out} (the socket's output stream), timed. */
    public OutputStream output(OutputStream out) {
      return new FilterOutputStream(out) {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          writingSince = System.nanoTime();
          try {
            out.write(b, off, len);
          } catch (IOException e) {
            throw timedOut(e);
          } finally {
            writingSince = NOT_WAITING;
          }
        }

        @Override
        public void flush() throws IOException {
          writingSince = System.nanoTime();
          try {
            out.flush();
          } catch (IOException e) {
            throw timedOut(e);
          } finally {
            writingSince = NOT_WAITING;
          }
        }
      };
    }

    private IOException timedOut(IOException e) {
      String why = timedOut;
      if (why == null) {
        return e;
      }
      SocketTimeoutException timeout = new SocketTimeoutException(why);
      timeout.initCause(e);
      return timeout;
    }

    private void check(long now) {
      if (socket.isClosed()) {
        watched.remove(this);
        return;
      }
      if (timedOut != null) {
        return;
      }
      long d = deadline;
      if (d != NONE && now - d >= 0) {
        timedOut = "session deadline reached";
        watched.remove(this);
        closeQuietly();
        atDeadline.run();
        return;
      }
      long since = readingSince;
      long limit = readLimit;
      if (since != NOT_WAITING && limit != NONE && now - since > limit) {
        timedOut = "Read timed out (no data for " + Duration.ofNanos(limit) + ")";
        try {
          socket.shutdownInput(); // wakes the read with end of stream; it throws the timeout
        } catch (IOException | UnsupportedOperationException e) {
          closeQuietly();
        }
        return;
      }
      since = writingSince;
      limit = writeLimit;
      if (since != NOT_WAITING && limit != NONE && now - since > limit) {
        timedOut = "Write timed out (peer took no data for " + Duration.ofNanos(limit) + ")";
        closeQuietly();
      }
    }

    private void closeQuietly() {
      try {
        socket.close();
      } catch (IOException e) {
        log.debug("closing a timed-out socket: {}", e.toString());
      }
    }

    /** Stops watching the socket (it is also dropped within a tick once it is closed). */
    @Override
    public void close() {
      watched.remove(this);
    }
  }
}
