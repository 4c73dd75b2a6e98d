package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SizeOrderingTest {
  private static final List<String> MOUNTS = List.of(
      "22 27 0:21 / /proc rw,relatime - proc proc rw",
      "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
      "40 27 254:1 / /var/spool rw,relatime - xfs /dev/vdb rw,attr2,inode64",
      "41 40 254:2 / /var/spool/signet rw,relatime - ext4 /dev/vdc rw,data=writeback",
      "42 27 0:40 / /srv/mail\\040spool rw,relatime - btrfs /dev/vdd rw,ssd",
      "43 27 0:41 / /mnt/nfs rw,relatime - nfs4 server:/export rw,vers=4.2",
      "44 27 0:42 / /data rw,relatime - ext4 /dev/vde rw,data=ordered",
      "45 27 0:43 / /data rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c",
      "46 27 0:44 / /journal rw,relatime - ext3 /dev/vdf rw,data=journal");

  /** What /proc/fs/ext4/<device>/options shows for the ext4 and ext3 mounts above, by "major:minor". */
  private static final Map<String, List<String>> EXT4_OPTIONS = Map.of(
      "254:0", List.of("rw", "bsddf", "delalloc", "data=ordered", "stripe=0"),
      "254:2", List.of("rw", "delalloc", "data=writeback"),
      "0:42", List.of("rw", "data=ordered"),
      "0:44", List.of("rw", "data=journal"));

  private static SizeOrdering of(String dir) {
    return of(dir, MOUNTS);
  }

  private static SizeOrdering of(String dir, List<String> mounts) {
    return SizeOrdering.of(Path.of(dir), mounts, device -> Optional.ofNullable(EXT4_OPTIONS.get(device)));
  }

  @Test
  void theMountWithTheLongestMountPointDecides() {
    assertEquals(new SizeOrdering(true, "ext4, data=ordered"), of("/var/lib/signet/spool/queue"));
    assertEquals(new SizeOrdering(true, "xfs"), of("/var/spool/other/queue"));
    assertEquals(new SizeOrdering(false, "ext4, data=writeback"), of("/var/spool/signet/queue"));
    assertEquals(new SizeOrdering(true, "ext4, data=ordered"), of("/var/spoolish/queue"),
        "a path prefix that is no mount point");
  }

  @Test
  void onlyFileSystemsKnownToKeepSizeBehindDataHold() {
    assertTrue(of("/srv/mail spool/queue").holds(), "btrfs, with the space in its mount point unescaped");
    assertFalse(of("/mnt/nfs/queue").holds());
    assertTrue(of("/journal/q").holds());
    assertEquals("ext3, data=journal", of("/journal/q").fileSystem());
  }

  @Test
  void ext4WithoutAJournalOrWithItsModeUnreadableDoesNotHold() {
    // The kernel shows no data= mode for an ext4 made without a journal; its mount line is like any other.
    List<String> mounts = List.of("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
        "28 27 7:1 / /nj rw,relatime - ext4 /dev/loop1 rw", "29 27 8:3 / /gone rw,relatime - ext4 /dev/sda3 rw");
    Map<String, List<String>> shown = Map.of("254:0", List.of("rw", "data=ordered"),
        "7:1", List.of("rw", "bsddf", "delalloc", "nojournal_checksum", "barrier", "stripe=0"));
    assertEquals(new SizeOrdering(false, "ext4 without a journal"),
        SizeOrdering.of(Path.of("/nj/queue"), mounts, d -> Optional.ofNullable(shown.get(d))));
    assertEquals(new SizeOrdering(false, "ext4 on 8:3, data mode unknown"),
        SizeOrdering.of(Path.of("/gone/queue"), mounts, d -> Optional.ofNullable(shown.get(d))));
    assertTrue(SizeOrdering.of(Path.of("/var/queue"), mounts, d -> Optional.ofNullable(shown.get(d))).holds());
    assertEquals(Optional.empty(), SizeOrdering.ext4Options("../../etc"), "only a major:minor is looked up");
  }

  @Test
  void aLaterMountOnTheSameMountPointHidesTheEarlierOne() {
    assertEquals(new SizeOrdering(false, "overlay"), of("/data/queue"));
  }

  @Test
  void noMountOrNoMountinfoMeansItDoesNotHold() {
    assertFalse(of("/x", List.of("garbage", "")).holds());
    assertFalse(SizeOrdering.of(Path.of("/no/such/dir")).holds(), "a path that does not resolve");
  }

  @Test
  void thisMachinesOwnTempDirectoryIsRead(@TempDir Path dir) throws Exception {
    SizeOrdering here = SizeOrdering.of(dir);
    // What the kernel says, read independently: the file system type of the longest mount point above dir.
    String[] mount = mountOf(dir);
    String type = mount[List.of(mount).indexOf("-") + 1];
    assertTrue(here.fileSystem().startsWith(type), here + " on " + type);
    if (type.equals("ext4") && !here.fileSystem().contains("unknown")) {
      // An ext4 with a journal has a jbd2 entry "<device name>-<journal inode>": what decides, read another way.
      assertEquals(hasJournal(dir), here.holds(), here.toString());
    }
  }

  /**
   * Two ext4 file systems made and loop-mounted here, one with a journal and one without (needs root and
   * mount(8); skipped where the machine refuses, as in an unprivileged container).
   */
  @Test
  void loopMountedExt4WithAndWithoutAJournal(@TempDir Path dir) throws Exception {
    for (boolean journal : List.of(true, false)) {
      Path image = dir.resolve("fs-" + journal + ".img");
      try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
        file.setLength(32L << 20);
      }
      List<String> mkfs = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F"));
      if (!journal) {
        mkfs.addAll(List.of("-O", "^has_journal"));
      }
      mkfs.add(image.toString());
      assumeTrue(run(mkfs) == 0, "mkfs.ext4 is not available here");
      Path mountPoint = Files.createDirectory(dir.resolve("mnt-" + journal));
      assumeTrue(run(List.of("mount", "-o", "loop", image.toString(), mountPoint.toString())) == 0,
          "cannot loop-mount a file system here");
      try {
        Path queue = Files.createDirectory(mountPoint.resolve("queue"));
        SizeOrdering ordering = SizeOrdering.of(queue);
        assertEquals(journal
            ? new SizeOrdering(true, "ext4, data=ordered") : new SizeOrdering(false, "ext4 without a journal"),
            ordering);
        assertEquals(journal, hasJournal(queue));
      } finally {
        assertEquals(0, run(List.of("umount", mountPoint.toString())));
      }
    }
  }

  /** Whether /proc/fs/jbd2 has a journal for the device under {@code dir} (the device's kernel name). */
  private static boolean hasJournal(Path dir) throws IOException {
    String device = mountOf(dir)[2];
    String name = Path.of("/sys/dev/block", device).toRealPath().getFileName().toString();
    try (Stream<Path> journals = Files.list(Path.of("/proc/fs/jbd2"))) {
      return journals.anyMatch(j -> j.getFileName().toString().startsWith(name + "-"));
    } catch (NoSuchFileException e) {
      return false; // no journal on any file system yet
    }
  }

  /** The fields of this process's mountinfo line for the longest mount point above {@code dir}. */
  private static String[] mountOf(Path dir) throws IOException {
    String[] best = null;
    int depth = -1;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      Path point = Path.of(f[4].replace("\\040", " "));
      if (dir.toRealPath().startsWith(point) && point.getNameCount() >= depth) {
        depth = point.getNameCount();
        best = f;
      }
    }
    return best;
  }

  private static int run(List<String> command) throws IOException, InterruptedException {
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      return -1; // no such command
    }
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }
}
