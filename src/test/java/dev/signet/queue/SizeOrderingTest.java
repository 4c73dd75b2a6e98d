package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  private static SizeOrdering of(String dir) {
    return SizeOrdering.of(Path.of(dir), MOUNTS);
  }

  @Test
  void theMountWithTheLongestMountPointDecides() {
    assertEquals(new SizeOrdering(true, "ext4"), of("/var/lib/signet/spool/queue"));
    assertEquals(new SizeOrdering(true, "xfs"), of("/var/spool/other/queue"));
    assertEquals(new SizeOrdering(false, "ext4, data=writeback"), of("/var/spool/signet/queue"));
    assertEquals(new SizeOrdering(true, "ext4"), of("/var/spoolish/queue"), "a path prefix that is no mount point");
  }

  @Test
  void onlyFileSystemsKnownToKeepSizeBehindDataHold() {
    assertTrue(of("/srv/mail spool/queue").holds(), "btrfs, with the space in its mount point unescaped");
    assertFalse(of("/mnt/nfs/queue").holds());
    assertTrue(of("/journal/q").holds());
    assertEquals("ext3, data=journal", of("/journal/q").fileSystem());
  }

  @Test
  void aLaterMountOnTheSameMountPointHidesTheEarlierOne() {
    assertEquals(new SizeOrdering(false, "overlay"), of("/data/queue"));
  }

  @Test
  void noMountOrNoMountinfoMeansItDoesNotHold() {
    assertFalse(SizeOrdering.of(Path.of("/x"), List.of("garbage", "")).holds());
    assertFalse(SizeOrdering.of(Path.of("/no/such/dir")).holds(), "a path that does not resolve");
  }

  @Test
  void thisMachinesOwnTempDirectoryIsRead(@TempDir Path dir) throws Exception {
    SizeOrdering here = SizeOrdering.of(dir);
    // What the kernel says, read independently: the file system type of the longest mount point above dir.
    String type = null;
    int depth = -1;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      int dash = List.of(f).indexOf("-");
      Path point = Path.of(f[4].replace("\\040", " "));
      if (dir.toRealPath().startsWith(point) && point.getNameCount() >= depth) {
        depth = point.getNameCount();
        type = f[dash + 1];
      }
    }
    assertTrue(here.fileSystem().startsWith(type), here + " on " + type);
  }
}
