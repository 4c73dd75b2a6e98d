package dev.signet.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Whether the file system under the spool keeps a file's size behind its data across a crash: after a
 * crash a file that was never fsynced holds a prefix of what was written (perhaps nothing), never a
 * stretch of zeros or stale blocks inside its size. Where that holds, {@link Spool#accept} renames a
 * message it accepts alone into queue/ before its fsync, so that one journal commit makes the file
 * and its name durable together, and {@link SpoolRecovery} deletes a .msg cut short by a crash (its
 * client never got a 250); elsewhere it always fsyncs the file in tmp/ first and renames it in
 * afterwards (two commits). See docs/ARCHITECTURE.md, "The spool directory".
 *
 * <p>Known to hold: ext4 and ext3 in their default {@code data=ordered} mode and in {@code data=journal}
 * (the on-disk size is raised in the transaction that waits for the data blocks), XFS (the on-disk
 * size is raised when the data write completes), btrfs (copy-on-write, data before the metadata that
 * points at it), and tmpfs and ramfs (nothing survives a crash). Anything else, {@code data=writeback}
 * included, takes the two-commit order.
 */
record SizeOrdering(boolean holds, String fileSystem) {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  /** For the spool directory {@code dir}: reads /proc/self/mountinfo; not Linux or unreadable: does not hold. */
  static SizeOrdering of(Path dir) {
    try {
      if (!Files.isReadable(MOUNTINFO)) {
        return new SizeOrdering(false, "unknown (no " + MOUNTINFO + ")");
      }
      return of(dir.toRealPath(), Files.readAllLines(MOUNTINFO));
    } catch (IOException | RuntimeException e) {
      return new SizeOrdering(false, "unknown (" + e.getMessage() + ")");
    }
  }

  /**
   * For {@code dir} (a real path) and the lines of a mountinfo file (proc(5)): the mount whose mount
   * point is the longest prefix of {@code dir} decides; a later mount on the same point hides an
   * earlier one.
   */
  static SizeOrdering of(Path dir, List<String> mountinfo) {
    String type = null;
    String options = "";
    int best = -1;
    for (String line : mountinfo) {
      // "36 35 98:0 /root /mnt rw,noatime shared:1 - ext4 /dev/sda1 rw,data=ordered"
      String[] halves = line.split(" - ", 2);
      String[] mount = halves[0].split(" ");
      if (halves.length < 2 || mount.length < 5) {
        continue;
      }
      String[] source = halves[1].split(" ");
      Path point = Path.of(unescape(mount[4]));
      int depth = point.getNameCount();
      if (dir.startsWith(point) && depth >= best) {
        best = depth;
        type = source[0];
        options = source.length > 2 ? source[2] : "";
      }
    }
    if (type == null) {
      return new SizeOrdering(false, "unknown (no mount holds " + dir + ")");
    }
    List<String> flags = List.of(options.split(","));
    boolean holds = switch (type.toLowerCase(Locale.ROOT)) {
      case "ext4", "ext3" -> !flags.contains("data=writeback");
      case "xfs", "btrfs", "tmpfs", "ramfs" -> true;
      default -> false;
    };
    String mode = flags.stream().filter(f -> f.startsWith("data=")).findFirst().map(f -> ", " + f).orElse("");
    return new SizeOrdering(holds, type + mode);
  }

  /** proc(5): mountinfo writes a space, tab, newline and backslash in a path as a three-digit octal escape. */
  private static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
