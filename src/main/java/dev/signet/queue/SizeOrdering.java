package dev.signet.queue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Whether the file system under the spool keeps a file's size behind its data across a crash: after a
 * crash a file that was never fsynced holds a prefix of what was written (perhaps nothing), never a
 * stretch of zeros or stale blocks inside its size. Where that holds, {@link Spool#accept} renames a
 * message it accepts alone into queue/ before its fsync, so that one journal commit makes the file
 * and its name durable together, and {@link SpoolRecovery} deletes a .msg cut short by a crash (its
 * client never got a 250); elsewhere it always fsyncs the file in tmp/ first and renames it in
 * afterwards (two commits). See docs/ARCHITECTURE.md, "The spool directory".
 *
 * <p>Known to hold: ext4 and ext3 with a journal, in their default {@code data=ordered} mode and in
 * {@code data=journal} (the on-disk size is raised in the transaction that waits for the data blocks),
 * XFS (the on-disk size is raised when the data write completes), btrfs (copy-on-write, data before the
 * metadata that points at it), and tmpfs and ramfs (nothing survives a crash). Anything else takes the
 * two-commit order: {@code data=writeback}, and ext4 made without a journal ({@code mkfs.ext4 -O
 * ^has_journal}), which orders nothing: its mount line looks like a journalled one, so the mode is read
 * from what the kernel shows for the device with the defaults included, {@code
 * /proc/fs/ext4/<device>/options} ({@code data=ordered} or {@code data=journal} there only with a
 * journal). Where that cannot be read, it does not hold.
 */
record SizeOrdering(boolean holds, String fileSystem) {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
  private static final Path BLOCK_DEVICES = Path.of("/sys/dev/block");
  private static final Path EXT4 = Path.of("/proc/fs/ext4");

  /** For the spool directory {@code dir}: reads /proc/self/mountinfo; not Linux or unreadable: does not hold. */
  static SizeOrdering of(Path dir) {
    try {
      if (!Files.isReadable(MOUNTINFO)) {
        return new SizeOrdering(false, "unknown (no " + MOUNTINFO + ")");
      }
      return of(dir.toRealPath(), Files.readAllLines(MOUNTINFO), SizeOrdering::ext4Options);
    } catch (IOException | RuntimeException e) {
      return new SizeOrdering(false, "unknown (" + e.getMessage() + ")");
    }
  }

  /**
   * For {@code dir} (a real path) and the lines of a mountinfo file (proc(5)): the mount whose mount
   * point is the longest prefix of {@code dir} decides; a later mount on the same point hides an
   * earlier one. For ext4 and ext3, {@code ext4Options} gives the options the kernel shows, defaults
   * included, for a device "major:minor" (as mountinfo names it), or empty when they cannot be read.
   */
  static SizeOrdering of(Path dir, List<String> mountinfo, Function<String, Optional<List<String>>> ext4Options) {
    String type = null;
    String device = "";
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
        device = mount[2];
      }
    }
    if (type == null) {
      return new SizeOrdering(false, "unknown (no mount holds " + dir + ")");
    }
    String fs = type.toLowerCase(Locale.ROOT);
    if (fs.equals("ext4") || fs.equals("ext3")) {
      return ext(type, device, ext4Options.apply(device));
    }
    boolean holds = switch (fs) {
      case "xfs", "btrfs", "tmpfs", "ramfs" -> true;
      default -> false;
    };
    return new SizeOrdering(holds, type);
  }

  /** ext4 or ext3 on {@code device}, whose full option list the kernel showed as {@code shown}. */
  private static SizeOrdering ext(String type, String device, Optional<List<String>> shown) {
    if (shown.isEmpty()) {
      return new SizeOrdering(false, type + " on " + device + ", data mode unknown");
    }
    Optional<String> mode = shown.get().stream().map(String::strip).filter(o -> o.startsWith("data=")).findFirst();
    if (mode.isEmpty()) {
      return new SizeOrdering(false, type + " without a journal");
    }
    return new SizeOrdering(mode.get().equals("data=ordered") || mode.get().equals("data=journal"),
        type + ", " + mode.get());
  }

  /**
   * The options ext4 shows for block device {@code device} ("major:minor") in {@code
   * /proc/fs/ext4/<name>/options}, one per line and the defaults included, where {@code <name>} is the
   * kernel's name of the device ({@code /sys/dev/block/<major:minor>} links to it); empty if unreadable.
   */
  static Optional<List<String>> ext4Options(String device) {
    if (!device.matches("[0-9]+:[0-9]+")) {
      return Optional.empty();
    }
    try {
      Path name = BLOCK_DEVICES.resolve(device).toRealPath().getFileName();
      return Optional.of(Files.readAllLines(EXT4.resolve(name.toString()).resolve("options")));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
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
