package dev.signet.config;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files and directories under {@code spool.dir}, readable by the relay's user only: files 0600,
 * directories 0700, as Postfix keeps its queue. The spool holds everyone's mail, whom it went to, who
 * bounced, and where the admin API listens; a local user must read none of it. Every stage that
 * writes under the spool creates its files and directories here, so the modes are set when the
 * file or directory is made (never a moment open to others) whatever the umask. Where the file
 * system has no POSIX modes (not Linux), the modes are left to it.
 *
 * <p>It lives in {@code config}, beside the {@code spool.dir} setting it keeps a promise about,
 * because that is the one package every stage writing under the spool (queue, events, admin,
 * delivery, dmarc) may depend on without a cycle: config depends on no stage.
 */
public final class PrivateFiles {
  private static final Logger log = LoggerFactory.getLogger(PrivateFiles.class);

  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
  private static final FileAttribute<?>[] FILE = {PosixFilePermissions.asFileAttribute(FILE_MODE)};
  private static final FileAttribute<?>[] DIRECTORY = {PosixFilePermissions.asFileAttribute(DIRECTORY_MODE)};
  private static final FileAttribute<?>[] NONE = {};
  private static final FileSystem DEFAULT = FileSystems.getDefault();
  private static final boolean DEFAULT_POSIX = DEFAULT.supportedFileAttributeViews().contains("posix");

  private PrivateFiles() {}

  /**
   * Creates {@code dir} and any missing parents 0700; a directory that is already there (left open
   * by an older version, or made by hand) is made 0700 too. Returns {@code dir}.
   */
  public static Path directory(Path dir) throws IOException {
    Files.createDirectories(dir, posix(dir) ? DIRECTORY : NONE);
    tighten(dir, DIRECTORY_MODE);
    return dir;
  }

  /**
   * Opens {@code file} with {@code options}; a file it creates is 0600, and one that was already
   * there (unless {@code CREATE_NEW} ruled that out) is made 0600.
   */
  public static FileChannel open(Path file, OpenOption... options) throws IOException {
    Set<OpenOption> set = Set.of(options);
    FileChannel channel = FileChannel.open(file, set, posix(file) ? FILE : NONE);
    if (!set.contains(StandardOpenOption.CREATE_NEW)) {
      try {
        tighten(file, FILE_MODE);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }
    return channel;
  }

  /** Creates {@code file}, which must not exist, 0600, and opens it for writing. */
  public static FileChannel create(Path file) throws IOException {
    return open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  /** Creates the empty file {@code file} (a marker, a probe), which must not exist, 0600. */
  public static Path createFile(Path file) throws IOException {
    return Files.createFile(file, posix(file) ? FILE : NONE);
  }

  /** A new empty file in {@code dir}, named {@code prefix<random>suffix}, 0600. */
  public static Path createTempFile(Path dir, String prefix, String suffix) throws IOException {
    return Files.createTempFile(dir, prefix, suffix, posix(dir) ? FILE : NONE);
  }

  private static boolean posix(Path path) {
    FileSystem fs = path.getFileSystem();
    return fs == DEFAULT ? DEFAULT_POSIX : fs.supportedFileAttributeViews().contains("posix");
  }

  /**
   * Sets {@code mode} on {@code path} if it has another. A path we may not change (owned by someone
   * else, a file system that ignores modes) is worth a warning, not a relay that will not start.
   */
  private static void tighten(Path path, Set<PosixFilePermission> mode) throws IOException {
    if (!posix(path)) {
      return;
    }
    Set<PosixFilePermission> now = Files.getPosixFilePermissions(path);
    if (!now.equals(mode)) {
      try {
        Files.setPosixFilePermissions(path, mode);
      } catch (IOException e) {
        log.warn("spool: cannot make {} private (mode {}): {}", path, PosixFilePermissions.toString(now), e.toString());
      }
    }
  }
}
