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
 * only known once the body has been hashed and signed. {@link Spool#accept} then has {@link #write}
 * put the final file {@code tmp/<id>.msg} = envelope + header block + body on disk, fsynced once,
 * and moved into the queue (before the fsync where {@link SizeOrdering} allows, else after). Nothing
 * here is visible in the queue before all of it is written. {@link #close} discards whatever was not
 * accepted.
 */
public final class Incoming implements AutoCloseable {
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
    if (size >= 0) {
      throw new IllegalStateException("headers() may be called once");
    }
    if (bodyOpened && !bodyClosed) {
      throw new IllegalStateException("close the body stream before writing the headers");
    }
    this.headerBlock = headerBlock; // kept until write(); the caller does not change it
    size = headerBlock.length + bodySize;
  }

  /**
   * Writes {@code tmp/<id>.msg}: {@code envelope}, the header block, then the body, and fsyncs it;
   * {@code beforeSync} (if not null) runs after the last write and before the fsync. Called once, by
   * {@link Spool#accept}.
   */
  void write(byte[] envelope, Committer.Change beforeSync) throws IOException {
    if (size < 0) {
      throw new IllegalStateException("headers() not written yet");
    }
    try (FileChannel out = PrivateFiles.create(messageFile)) {
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
      if (beforeSync != null) {
        beforeSync.apply();
      }
      out.force(true);
    }
    headerBlock = null;
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
