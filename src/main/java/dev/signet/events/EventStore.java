package dev.signet.events;

import dev.signet.config.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable event log under {@code <spool>/events/} (docs/ARCHITECTURE.md "The spool directory"):
 * segment files of lines {@code <epoch millis> <type> <json>}, appended and fsynced before
 * {@link #append} returns (group commit: one fsync covers every append that finished meanwhile),
 * and one cursor file per reader (a webhook) saying how far it got. {@link #appendSoon} does not
 * wait: its events are fsynced by the next {@link #append}'s fsync, or by the store's own thread
 * within {@link #SOON}, whichever comes first (the accepted events, which the spool can re-create). A reader only sees what is on
 * disk, so an event counts as sent only after it was stored. A crash can leave a torn last line;
 * {@link #open} cuts it off (that append never returned).
 *
 * <p>The segment being written is preallocated ahead of the events, a megabyte at a time: zero bytes
 * written and fsynced (so their blocks are allocated), which events then overwrite. An fdatasync
 * after such an overwrite flushes data blocks only, because neither the file's size nor its block
 * map changed, where an fsync after an append must also commit the file system's journal (for the
 * new size): about a fifth of the time on the ext4 disks measured (bench/RESULTS.md). The end of the
 * events is the first zero byte (event lines never hold one: JSON escapes control characters); a
 * closed segment is cut to its events, so only the last segment has zeros at its end. When the disk
 * has no room for the next megabyte, events are appended as they come (a full disk must not stop the
 * relay; the appends fail as any write would).
 */
final class EventStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventStore.class);
  private static final long SEGMENT_BYTES = 16L << 20;
  private final long segmentBytes;
  private static final String SUFFIX = ".log";

  /** Where a reader stands: byte {@code offset} in segment {@code segment}. */
  record Position(long segment, long offset) implements Comparable<Position> {
    @Override
    public int compareTo(Position o) {
      return segment != o.segment ? Long.compare(segment, o.segment) : Long.compare(offset, o.offset);
    }
  }

  /** One stored event: when it happened, its type, its JSON, and the position just after it. */
  record Stored(Instant time, Event.Type type, String json, Position next) {}

  private final Path dir;
  private final Path cursors;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition appended = lock.newCondition();
  private final Object syncing = new Object();
  private FileChannel current;
  private long currentSegment;
  /** Bytes written to the current segment; {@link #durable} trails it until the fsync. */
  private long written;
  /** Where the zeros written ahead in the current segment end (events fill them from {@link #written}). */
  private long preallocated;
  /** After the disk had no room: no zeros are written ahead until the events reach here. */
  private long preallocateAgainAt;
  private static final long PREALLOCATION_STEP = 1 << 20;
  private volatile Position durable;
  /** The longest an {@link #appendSoon} waits for its fsync. */
  static final Duration SOON = Duration.ofMillis(50);
  private final Object soonLock = new Object();
  /** The end of the latest {@link #appendSoon} the sync thread has not taken yet; under {@link #soonLock}. */
  private Position soon;
  private Thread syncer;
  private volatile boolean closed;
  /** The position after the last byte written (not necessarily synced); set under {@link #lock}. */
  private volatile Position tail;

  private EventStore(Path dir, long segmentBytes) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.cursors = dir.resolve("cursors");
  }

  /** Opens (creating) the store in {@code dir} and cuts a torn last line left by a crash. */
  static EventStore open(Path dir) throws IOException {
    return open(dir, SEGMENT_BYTES);
  }

  /** @param segmentBytes a segment this long is closed and the next begun (small in tests) */
  static EventStore open(Path dir, long segmentBytes) throws IOException {
    EventStore store = new EventStore(dir, segmentBytes);
    PrivateFiles.directory(dir);
    PrivateFiles.directory(store.cursors);
    TreeSet<Long> segments = store.segments();
    long last = segments.isEmpty() ? 0 : segments.last();
    store.current = PrivateFiles.open(store.segment(last), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ);
    store.currentSegment = last;
    store.written = store.wholeLines(store.current);
    store.current.truncate(store.written);
    store.preallocated = store.written;
    store.preallocate(0);
    store.durable = new Position(last, store.written);
    store.tail = store.durable;
    syncDirectory(dir);
    return store;
  }

  /**
   * The length of the events in {@code channel}: up to the end of the last complete line before the
   * first zero byte (the preallocated rest) or the end of the file. After a crash, lines the last
   * fsync did not cover may be partly on disk, with zeros between their blocks: everything from the
   * first zero on is cut, and with it any line whose append never returned.
   */
  private static long wholeLines(FileChannel channel) throws IOException {
    long size = channel.size();
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    long pos = 0;
    long lineEnd = 0;
    while (pos < size) {
      b.clear().limit((int) Math.min(b.capacity(), size - pos));
      int n = channel.read(b, pos);
      if (n <= 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        byte c = b.get(i);
        if (c == 0) {
          return lineEnd;
        }
        if (c == '\n') {
          lineEnd = pos + i + 1;
        }
      }
      pos += n;
    }
    return lineEnd;
  }

  /**
   * Writes zeros ahead of the events so that the next {@code needed} bytes from {@link #written} (and
   * up to a step more, within the segment) overwrite allocated blocks, and makes them durable. On a
   * disk without room, gives back what it wrote and leaves the appends to grow the file.
   */
  private void preallocate(long needed) throws IOException {
    long want = Math.min(segmentBytes, Math.max(written + needed, preallocated + PREALLOCATION_STEP));
    if (want <= preallocated || written < preallocateAgainAt) {
      return;
    }
    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1 << 16, want - preallocated));
    try {
      for (long pos = preallocated; pos < want; ) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), want - pos));
        pos += current.write(zeros, pos);
      }
      current.force(true);
      preallocated = want;
    } catch (IOException e) {
      current.truncate(Math.max(written, preallocated)); // no room: free what this wrote
      preallocateAgainAt = written + PREALLOCATION_STEP;
    }
  }

  /** Stores {@code events} durably: on return they survive a crash. */
  void append(List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return;
    }
    Written w = write(events);
    sync(w.channel(), w.end());
  }

  /**
   * Stores {@code events} without waiting for their fsync: on return they are written (readers see
   * them once durable), and durable within {@link #SOON}, sooner if another append fsyncs first. A
   * crash before then loses them; use it only for events the caller can re-create after a crash.
   */
  void appendSoon(List<Event> events) throws IOException {
    if (events.isEmpty()) {
      return;
    }
    Position end = write(events).end();
    synchronized (soonLock) {
      if (soon == null || soon.compareTo(end) < 0) {
        soon = end;
      }
      if (syncer == null) {
        syncer = Thread.ofPlatform().daemon().name("signet-events-sync").start(this::syncSoon);
      }
      soonLock.notifyAll();
    }
  }

  /** The thread behind {@link #appendSoon}: waits for a pending end, gives others {@link #SOON} to fsync it, then does. */
  private void syncSoon() {
    while (true) {
      Position want;
      synchronized (soonLock) {
        while (soon == null && !closed) {
          try {
            soonLock.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (soon == null) {
          return; // closed, and nothing waits: close() fsynced the rest
        }
        want = soon;
        soon = null;
      }
      try {
        Thread.sleep(SOON);
        if (durable.compareTo(want) < 0) {
          FileChannel channel;
          lock.lock();
          try {
            channel = current;
          } finally {
            lock.unlock();
          }
          sync(channel, want);
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          // The next append's fsync covers these events too; until then they are not durable.
          log.error("event store: fsync failed: {}", e.toString());
        }
      }
    }
  }

  private record Written(FileChannel channel, Position end) {}

  /** Writes {@code events} after the last ones (rotating or preallocating first if needed). */
  private Written write(List<Event> events) throws IOException {
    StringBuilder text = new StringBuilder(events.size() * 320);
    for (Event e : events) {
      text.append(e.time().toEpochMilli()).append(' ').append(e.type().label()).append(' ')
          .append(e.toJson()).append('\n');
    }
    ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
    Position end;
    FileChannel channel;
    lock.lock();
    try {
      if (written >= segmentBytes) {
        rotate();
      }
      if (written + bytes.remaining() > preallocated) {
        preallocate(bytes.remaining());
      }
      channel = current;
      while (bytes.hasRemaining()) {
        written += channel.write(bytes, written);
      }
      end = new Position(currentSegment, written);
      tail = end;
    } finally {
      lock.unlock();
    }
    return new Written(channel, end);
  }

  /** Group commit: whoever gets here first fsyncs for everyone who wrote before it. */
  private void sync(FileChannel channel, Position end) throws IOException {
    synchronized (syncing) {
      if (durable.compareTo(end) >= 0) {
        return;
      }
      Position upTo = tail; // everything written so far: this fsync covers it
      if (upTo.segment() != end.segment() || !channel.isOpen()) {
        return; // rotated meanwhile: rotate() fsynced our segment and moved durable past it
      }
      channel.force(false);
      if (upTo.compareTo(durable) > 0) {
        durable = upTo;
      }
    }
    lock.lock();
    try {
      appended.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Closes the full segment (cut to its events, fsynced) and starts the next; under {@link #lock}. */
  private void rotate() throws IOException {
    synchronized (syncing) {
      current.truncate(written);
      current.force(true);
      current.close();
      durable = new Position(currentSegment + 1, 0);
    }
    currentSegment++;
    written = 0;
    tail = new Position(currentSegment, 0);
    current = PrivateFiles.open(segment(currentSegment), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ);
    preallocated = 0;
    preallocateAgainAt = 0;
    preallocate(0);
    syncDirectory(dir);
  }

  /** The position after the last durable event: where a new reader starts. */
  Position end() {
    return durable;
  }

  /** The first position that still has a segment on disk. */
  Position start() throws IOException {
    TreeSet<Long> segments = segments();
    return new Position(segments.isEmpty() ? currentSegment : segments.first(), 0);
  }

  /**
   * Where to start reading for events from {@code since} on: the first segment last written at or
   * after it (segments are written in time order, so the ones before hold only older events).
   */
  Position startAt(Instant since) throws IOException {
    // A file's mtime comes from the kernel's coarse clock, which can lag the real time by a tick: a
    // segment written just after `since` may look older. Starting a little early costs a few skipped
    // lines (the caller filters by each event's own time); starting late would lose events.
    Instant earliest = since.minusSeconds(1);
    for (long s : segments()) {
      try {
        if (!Files.getLastModifiedTime(segment(s)).toInstant().isBefore(earliest)) {
          return new Position(s, 0);
        }
      } catch (NoSuchFileException e) {
        // removed by cleanup meanwhile
      }
    }
    return new Position(currentSegment, 0);
  }

  /**
   * Up to {@code max} durable events from {@code from} on (fewer when the durable end comes first).
   * A position inside a segment that was removed moves to the next segment still there.
   */
  List<Stored> read(Position from, int max) throws IOException {
    List<Stored> out = new ArrayList<>();
    Position at = from;
    Position end = durable;
    while (out.size() < max && at.compareTo(end) < 0) {
      Path file = segment(at.segment());
      long limit = at.segment() == end.segment() ? end.offset() : Long.MAX_VALUE;
      boolean gone = false;
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        limit = Math.min(limit, ch.size());
        at = readLines(ch, at, limit, max, out);
      } catch (NoSuchFileException e) {
        gone = true; // removed by cleanup: continue at the next segment there is
      }
      if (out.size() < max && at.segment() < end.segment() && (gone || at.offset() >= limit)) {
        Long next = segments().higher(at.segment());
        at = new Position(next == null ? end.segment() : next, 0);
      } else if (out.size() < max) {
        break;
      }
    }
    return out;
  }

  private static Position readLines(FileChannel ch, Position at, long limit, int max, List<Stored> out)
      throws IOException {
    long pos = at.offset();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    byte[] carry = new byte[0];
    while (pos + carry.length < limit && out.size() < max) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), limit - pos - carry.length));
      int n = ch.read(buf, pos + carry.length);
      if (n <= 0) {
        break;
      }
      byte[] chunk = new byte[carry.length + n];
      System.arraycopy(carry, 0, chunk, 0, carry.length);
      System.arraycopy(buf.array(), 0, chunk, carry.length, n);
      int lineStart = 0;
      for (int i = 0; i < chunk.length && out.size() < max; i++) {
        if (chunk[i] == 0) {
          return new Position(at.segment(), limit); // preallocated zeros: this segment has no more events
        }
        if (chunk[i] == '\n') {
          String line = new String(chunk, lineStart, i - lineStart, StandardCharsets.UTF_8);
          out.add(parse(line, new Position(at.segment(), pos + i + 1)));
          lineStart = i + 1;
        }
      }
      pos += lineStart;
      carry = java.util.Arrays.copyOfRange(chunk, lineStart, chunk.length);
      if (lineStart == 0 && carry.length >= (1 << 24)) {
        throw new IOException("event store: line longer than 16 MB in segment " + at.segment());
      }
    }
    return new Position(at.segment(), pos);
  }

  private static Stored parse(String line, Position next) throws IOException {
    int a = line.indexOf(' ');
    int b = a < 0 ? -1 : line.indexOf(' ', a + 1);
    if (b < 0) {
      throw new IOException("event store: malformed line before " + next);
    }
    return new Stored(Instant.ofEpochMilli(Long.parseLong(line.substring(0, a))),
        Event.Type.of(line.substring(a + 1, b)), line.substring(b + 1), next);
  }

  /** Waits until an append becomes durable, at most {@code timeout}; false on timeout. */
  boolean awaitAppend(Position seen, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (durable.compareTo(seen) <= 0) {
        if (nanos <= 0) {
          return false;
        }
        nanos = appended.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The saved position of reader {@code name}, if it has one. */
  Optional<Position> cursor(String name) throws IOException {
    try {
      String[] parts = Files.readString(cursors.resolve(name)).strip().split(" ");
      return Optional.of(new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (RuntimeException e) {
      throw new IOException("event store: cursor " + cursors.resolve(name) + " is unreadable", e);
    }
  }

  /** Saves reader {@code name}'s position durably (write, fsync, rename). */
  void saveCursor(String name, Position at) throws IOException {
    Path tmp = cursors.resolve(name + ".tmp");
    try (FileChannel ch = PrivateFiles.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap((at.segment() + " " + at.offset() + "\n").getBytes(StandardCharsets.US_ASCII));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, cursors.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("event store: " + cursors + " does not support atomic renames", e);
    }
    syncDirectory(cursors);
  }

  /**
   * Deletes whole segments before {@code before} (every reader is past them) whose last event is
   * older than {@code keepUntil}; the current segment stays.
   */
  int removeBefore(Position before, Instant keepUntil) throws IOException {
    int removed = 0;
    for (long s : segments()) {
      Path file = segment(s);
      if (s >= before.segment() || s >= currentSegment
          || Files.getLastModifiedTime(file).toInstant().isAfter(keepUntil)) {
        continue;
      }
      Files.deleteIfExists(file);
      removed++;
    }
    if (removed > 0) {
      syncDirectory(dir);
    }
    return removed;
  }

  private TreeSet<Long> segments() throws IOException {
    TreeSet<Long> out = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX) && n.length() == 16 + SUFFIX.length())
          .forEach(n -> out.add(Long.parseLong(n.substring(0, 16))));
    }
    return out;
  }

  private Path segment(long n) {
    return dir.resolve(String.format("%016d", n) + SUFFIX);
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (soonLock) {
      closed = true;
      soonLock.notifyAll();
    }
    lock.lock();
    try {
      if (current.isOpen()) {
        current.truncate(written); // a closed segment holds only its events
        current.force(true);
        current.close();
      }
    } finally {
      lock.unlock();
    }
  }
}
