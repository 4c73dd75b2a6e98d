package dev.signet.dkim;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key ring in force, reloaded without a restart (docs/ARCHITECTURE.md, "Keys": rotation by adding a
 * selector and renaming the old one to {@code .pem.retired}). {@link #reload} loads the directory
 * again and swaps the ring atomically: each message reads {@link #current} once, so it is signed
 * wholly with the old or wholly with the new keys. A ring that fails to load (a key with loose
 * permissions, a broken PEM) is refused and the old one stays in force, so a mistake during
 * rotation never stops signing. {@link #watch} reloads when files under the directory change.
 */
public final class LiveKeyRing implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveKeyRing.class);

  private final Path dir;
  private final SigningListener listener;
  private final AtomicReference<KeyRing> current;
  private volatile WatchService watcher;
  private Thread watching;

  private LiveKeyRing(Path dir, KeyRing first, SigningListener listener) {
    this.dir = dir;
    this.listener = listener;
    this.current = new AtomicReference<>(first);
  }

  /** Loads {@code dir} once; the first load must succeed. Reloads are reported to {@code listener}. */
  public static LiveKeyRing load(Path dir, SigningListener listener) throws DkimException {
    return new LiveKeyRing(dir, KeyRing.load(dir), listener);
  }

  /** A live ring starting from an already loaded {@code ring} of {@code dir}. */
  public static LiveKeyRing of(Path dir, KeyRing ring, SigningListener listener) {
    return new LiveKeyRing(dir, ring, listener);
  }

  public KeyRing current() {
    return current.get();
  }

  /**
   * Loads the directory again; on success the new ring replaces the old one and is logged.
   *
   * @return whether the new ring is in force
   */
  public synchronized boolean reload() {
    KeyRing next;
    try {
      next = KeyRing.load(dir);
    } catch (DkimException e) {
      log.error("dkim.keys reload failed, keeping the keys in force: {}", e.getMessage());
      listener.keysReloaded(false);
      return false;
    }
    current.set(next);
    log.info("dkim.keys reloaded: active [{}], retired [{}]",
        next.all().stream().map(SigningKey::describe).collect(Collectors.joining(", ")),
        next.retired().stream().map(SigningKey::describe).collect(Collectors.joining(", ")));
    listener.keysReloaded(true);
    return true;
  }

  /**
   * Reloads after files under the keys directory change, once they have been quiet for
   * {@code debounce} (an editor or {@code keygen} writes in several steps). Watches the directory
   * and each domain directory (WatchService is not recursive; new domains are picked up).
   */
  public synchronized void watch(Duration debounce) throws IOException {
    if (watching != null) {
      throw new IllegalStateException("already watching");
    }
    watcher = dir.getFileSystem().newWatchService();
    register();
    watching = Thread.ofPlatform().daemon().name("signet-key-watch").start(() -> run(debounce));
  }

  private void register() throws IOException {
    WatchService w = watcher;
    var kinds = new java.nio.file.WatchEvent.Kind<?>[] {StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY};
    dir.register(w, kinds);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path domain : entries) {
        domain.register(w, kinds); // registering twice returns the same key
      }
    }
  }

  private void run(Duration debounce) {
    WatchService w = watcher;
    try {
      while (true) {
        WatchKey key = w.take();
        drain(key);
        // Debounce: wait until nothing more happened for `debounce`.
        WatchKey more;
        while ((more = w.poll(debounce.toMillis(), TimeUnit.MILLISECONDS)) != null) {
          drain(more);
        }
        try {
          register();
        } catch (IOException e) {
          log.warn("dkim.keys watch: {}", e.toString());
        }
        reload();
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  private static void drain(WatchKey key) {
    key.pollEvents();
    key.reset();
  }

  @Override
  public synchronized void close() {
    if (watcher != null) {
      try {
        watcher.close();
      } catch (IOException e) {
        log.debug("closing the key watcher", e);
      }
    }
    if (watching != null) {
      watching.interrupt();
      try {
        watching.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
