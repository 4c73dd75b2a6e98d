package dev.signet.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the signed bytes of a message are: {@code file} from {@code offset} to its end. The spool keeps
 * a message's envelope in front of it in the same file (one fsync per accepted message), so its bytes
 * start at an offset; a plain message file has offset 0.
 */
public record MessageSource(Path file, long offset) {
  public MessageSource {
    if (offset < 0) {
      throw new IllegalArgumentException(file + ": negative offset " + offset);
    }
  }

  /** The whole of {@code file}. */
  public static MessageSource of(Path file) {
    return new MessageSource(file, 0);
  }

  /** How many bytes the message has (the file's size less the offset). */
  public long length() throws IOException {
    return Math.max(0, Files.size(file) - offset);
  }

  /**
   * A read buffer for a message of {@code length} bytes: the whole message up to 64 KB, so a small
   * message is read in one call without zeroing a 64 KB array for it (at least 4 KB).
   */
  public static int bufferFor(long length) {
    return (int) Math.max(4096, Math.min(64 * 1024, length));
  }

  /** The message bytes, from the first to the last. */
  public InputStream open() throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    try {
      channel.position(offset);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return Channels.newInputStream(channel);
  }

  @Override
  public String toString() {
    return offset == 0 ? file.toString() : file + " (from byte " + offset + ")";
  }
}
