package dev.signet.queue;

import dev.signet.config.PrivateFiles;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A message being received, not yet in the queue: the body is written first (kept in memory up to
 * {@link #MEMORY_LIMIT}, then spilled to {@code tmp/<id>.body}), then the header block, which is
 * only known once the body has been hashed, its signatures perhaps still placeholders to fill in.
 * {@link Spool#accept} then has {@link #write} or {@link #writeAlone} put the final file
 * {@code tmp/<id>.msg} = envelope + header block + body on disk, fsynced once, and moved into the
 * queue (before the fsync where {@link SizeOrdering} allows, else after). Nothing here is visible in
 * the queue before all of it is written. {@link #close} discards whatever was not accepted.
 */
public final class Incoming implements AutoCloseable {
  /**
   * Fills in, in place, bytes the header block holds placeholders for (the DKIM signatures, see
   * {@link #headers(byte[], int, Filler)}). A message whose header block holds a NUL byte in the
   * queue is one whose filled-in bytes a crash kept off the disk ({@link Spool#unfinished}).
   */
  @FunctionalInterface
  public interface Filler {
    void fill(byte[] headerBlock) throws IOException;
  }

  static final int MEMORY_LIMIT = 1 << 20;

  private final String id;
  private final Path tmpDir;
  private final Path spillFile;
  private final Path messageFile;
  private final ByteArrayOutputStream memory = new ByteArrayOutputStream(8192);
  private OutputStream spill;
  private boolean spilled;
  private boolean bodyOpened;
  private boolean bodyClosed;
  private long bodySize;
  private byte[] headerBlock;
  private int unfilled;
  private Filler filler;
  private long size = -1;
  private boolean accepted;

  Incoming(String id, Path tmpDir) {
    this.id = id;
    this.tmpDir = tmpDir;
    this.spillFile = tmpDir.resolve(id + ".body");
    this.messageFile = tmpDir.resolve(id + ".msg");
  }

  /** The queue id this message will have; also what its Received field and log lines name. */
  public String id() {
    return id;
  }

  /** The stream for the message body; may be asked for once. */
  public OutputStream body() {
    if (bodyOpened) {
      throw new IllegalStateException("body() may be called once");
    }
    bodyOpened = true;
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (bodyClosed) {
          throw new IOException("body stream is closed");
        }
        if (!spilled && memory.size() + len > MEMORY_LIMIT) {
          spill = new BufferedOutputStream(Channels.newOutputStream(PrivateFiles.create(spillFile)), 65536);
          memory.writeTo(spill);
          memory.reset();
          spilled = true;
        }
        (spilled ? spill : memory).write(b, off, len);
        bodySize += len;
      }

      @Override
      public void close() throws IOException {
        if (!bodyClosed) {
          bodyClosed = true;
          if (spill != null) {
            spill.close();
          }
        }
      }
    };
  }

  /**
   * Sets the message's header block, which goes in front of the body. Called once, after the body
   * stream was written and closed.
   */
  public void headers(byte[] headerBlock) {
    headers(headerBlock, 0, null);
  }

  /**
   * As {@link #headers(byte[])}, for a block whose first {@code unfilled} bytes hold placeholders
   * (NUL where the DKIM b= values go) that {@code filler} fills in. {@link Spool#accept} has it
   * fill them before the message counts as accepted: either before anything is written, or, for a
   * message written alone, while the file's fsync runs; the filled-in bytes are then written over
   * the placeholders after that fsync began, without one of their own (a crash can keep them off the
   * disk; start-up fills them in again, see {@link Spool#unfinished}).
   */
  public void headers(byte[] headerBlock, int unfilled, Filler filler) {
    if (size >= 0) {
      throw new IllegalStateException("headers() may be called once");
    }
    if (bodyOpened && !bodyClosed) {
      throw new IllegalStateException("close the body stream before writing the headers");
    }
    if (unfilled < 0 || unfilled > headerBlock.length) {
      throw new IllegalArgumentException("unfilled " + unfilled + " of a " + headerBlock.length + "-byte block");
    }
    this.headerBlock = headerBlock; // kept until write(); the caller does not change it
    this.unfilled = unfilled;
    this.filler = filler;
    size = headerBlock.length + bodySize;
  }

  /**
   * Writes {@code tmp/<id>.msg}: {@code envelope}, the header block (its placeholders filled in
   * first), then the body, and fsyncs it; {@code beforeSync} (if not null) runs after the last write
   * and before the fsync. Called once, by {@link Spool#accept}.
   */
  void write(byte[] envelope, Committer.Change beforeSync) throws IOException {
    if (size < 0) {
      throw new IllegalStateException("headers() not written yet");
    }
    if (filler != null) {
      filler.fill(headerBlock);
    }
    try (FileChannel out = PrivateFiles.create(messageFile)) {
      writeAll(out, envelope);
      if (beforeSync != null) {
        beforeSync.apply();
      }
      out.force(true);
    }
    headerBlock = null;
  }

  /**
   * The order for a message written alone. Without a {@code slot}: writes {@code tmp/<id>.msg} with
   * the placeholders, runs {@code moveIn} (the rename into queue/), has {@code committer} fsync the
   * file and the directory on its sync thread while this one fills in the placeholders, writes the
   * filled-in bytes over them, and returns once that fsync returned. Into a {@code slot} (an empty
   * file in queue/ whose name is durable, {@link Slots}): the same with no directory fsync, and
   * {@code moveIn} (the slot's rename to the .msg) runs last, after the fsync. With {@code renameDurable}
   * (a spare, {@link Slots#SPARE_PREFIX}) the directory fsync follows the rename, and where there are
   * placeholders to fill in, the sync thread does both right after the file's fsync while this one fills
   * them in. Called once, by {@link Spool#accept}.
   */
  void writeAlone(byte[] envelope, Path slot, Committer.Change moveIn, Committer committer, boolean renameDurable)
      throws IOException {
    if (size < 0) {
      throw new IllegalStateException("headers() not written yet");
    }
    boolean renameFirst = slot == null;
    boolean renamedThere = false; // by the sync thread, after the fsync
    try (FileChannel out = renameFirst ? PrivateFiles.create(messageFile) : FileChannel.open(slot, StandardOpenOption.WRITE)) {
      writeAll(out, envelope);
      if (renameFirst) {
        moveIn.apply();
      }
      if (filler == null) {
        out.force(true);
        if (renameFirst) {
          committer.commitHere();
        }
      } else {
        renamedThere = renameDurable && !renameFirst;
        java.util.concurrent.Future<?> synced =
            renamedThere ? committer.syncAlone(out, moveIn) : committer.syncAlone(out, renameFirst);
        try {
          filler.fill(headerBlock);
          ByteBuffer filled = ByteBuffer.wrap(headerBlock, 0, unfilled);
          long at = envelope.length;
          while (filled.hasRemaining()) {
            at += out.write(filled, at);
          }
        } catch (IOException | RuntimeException e) {
          try {
            Committer.await(synced); // the channel stays open until its fsync returned
          } catch (IOException f) {
            e.addSuppressed(f);
          }
          throw e;
        }
        Committer.await(synced);
      }
    }
    if (!renameFirst && !renamedThere) {
      moveIn.apply();
      if (renameDurable) {
        committer.commitHere();
      }
    }
    headerBlock = null;
  }

  private void writeAll(FileChannel out, byte[] envelope) throws IOException {
    writeFully(out, ByteBuffer.wrap(envelope));
    writeFully(out, ByteBuffer.wrap(headerBlock));
    if (spilled) {
      copyFully(spillFile, bodySize, out);
      Files.delete(spillFile);
    } else {
      // writeTo avoids copying the buffer; the channel stream writes fully.
      memory.writeTo(Channels.newOutputStream(out));
      memory.reset();
    }
  }

  /** Appends the first {@code size} bytes of {@code source} to {@code out}. */
  static void copyFully(Path source, long size, FileChannel out) throws IOException {
    try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
      long done = 0;
      while (done < size) {
        long n = in.transferTo(done, size - done, out);
        if (n <= 0) {
          throw new IOException(source + ": shorter than the " + size + " bytes expected");
        }
        done += n;
      }
    }
  }

  static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  /** Bytes of the complete message (header block + body); known after {@link #headers}. */
  public long size() {
    if (size < 0) {
      throw new IllegalStateException("headers() not written yet");
    }
    return size;
  }

  boolean complete() {
    return size >= 0;
  }

  Path messageFile() {
    return messageFile;
  }

  void markAccepted() {
    accepted = true;
  }

  /** Discards the message unless it was accepted into the queue. */
  @Override
  public void close() throws IOException {
    if (accepted) {
      return;
    }
    memory.reset();
    try {
      if (spill != null && !bodyClosed) {
        bodyClosed = true;
        spill.close();
      }
    } finally {
      Files.deleteIfExists(spillFile);
    }
    Files.deleteIfExists(messageFile);
    Files.deleteIfExists(tmpDir.resolve(id + ".env"));
  }
}
