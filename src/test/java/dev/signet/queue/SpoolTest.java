package dev.signet.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.Reply;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
  @TempDir Path dir;

  private static final byte[] HEADERS = "From: a@example.com\r\nSubject: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static Envelope envelope(String id, long size, String... recipients) {
    return Envelope.received(id, "a@example.com", List.of(recipients), "127.0.0.1", Optional.of("client.example"),
        Optional.empty(), Instant.parse("2026-11-25T18:00:00Z"), size,
        List.of("d=example.com s=rsa2026 a=rsa-sha256"));
  }

  /** Receives and accepts one message; returns its id. */
  static String spool(Spool spool, byte[] body, String... recipients) throws IOException {
    try (Incoming in = spool.receive()) {
      try (OutputStream out = in.body()) {
        out.write(body);
      }
      in.headers(HEADERS);
      spool.accept(in, envelope(in.id(), in.size(), recipients));
      return in.id();
    }
  }

  private static byte[] read(Spool spool, String id) throws IOException {
    try (InputStream in = spool.open(id)) {
      return in.readAllBytes();
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * The files in {@code sub}, but the empty slots (or spares) a spool keeps in queue/ for lone messages
   * ({@link Slots}).
   */
  private List<String> names(String sub) throws IOException {
    return names(dir.resolve(sub));
  }

  private static List<String> names(Path sub) throws IOException {
    try (Stream<Path> s = Files.list(sub)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !isEmptySlot(sub.resolve(n))).sorted().toList();
    }
  }

  private static boolean isEmptySlot(Path file) {
    try {
      String name = file.getFileName().toString();
      return (name.startsWith(Slots.PREFIX) || name.startsWith(Slots.SPARE_PREFIX)) && Files.size(file) == 0;
    } catch (IOException e) {
      return false; // taken and renamed meanwhile
    }
  }

  @Test
  void acceptedMessageIsQueuedAsHeaderBlockThenBody() throws IOException {
    byte[] body = "Hello\r\n".getBytes(StandardCharsets.US_ASCII);
    try (Spool spool = Spool.open(dir)) {
      String id = spool(spool, body, "b@example.org", "c@example.net");
      assertArrayEquals(concat(HEADERS, body), read(spool, id));
      List<Envelope> queued = spool.list();
      assertEquals(1, queued.size());
      Envelope e = queued.get(0);
      assertEquals(id, e.id());
      assertEquals(HEADERS.length + body.length, e.size());
      assertEquals(List.of("b@example.org", "c@example.net"), e.recipients().stream().map(Recipient::address).toList());
      assertTrue(e.recipients().stream().allMatch(r -> r.state() == State.PENDING && r.attempts() == 0));
      assertEquals(List.of(), names("tmp"));
      // One file per message: the envelope as accepted, then the signed bytes.
      assertEquals(List.of(id + ".msg"), names("queue"));
      assertArrayEquals(concat(EnvelopeFormat.format(e), concat(HEADERS, body)),
          Files.readAllBytes(dir.resolve("queue").resolve(id + ".msg")));
    }
  }

  @Test
  void bodyLargerThanTheMemoryBufferIsSpilledAndSpooledIntact() throws IOException {
    byte[] body = new byte[Incoming.MEMORY_LIMIT * 3 + 17];
    new Random(1).nextBytes(body);
    try (Spool spool = Spool.open(dir)) {
      String id;
      try (Incoming in = spool.receive()) {
        try (OutputStream out = in.body()) {
          for (int off = 0; off < body.length; off += 8000) {
            out.write(body, off, Math.min(8000, body.length - off));
          }
        }
        assertTrue(Files.exists(dir.resolve("tmp").resolve(in.id() + ".body")), "spilled to tmp/");
        in.headers(HEADERS);
        spool.accept(in, envelope(in.id(), in.size(), "b@example.org"));
        id = in.id();
      }
      assertArrayEquals(concat(HEADERS, body), read(spool, id));
      assertEquals(List.of(), names("tmp"));
    }
  }

  @Test
  void messageNotAcceptedLeavesNoFileBehind() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      try (Incoming in = spool.receive()) {
        try (OutputStream out = in.body()) {
          out.write(new byte[Incoming.MEMORY_LIMIT + 1]);
        }
        in.headers(HEADERS);
        // a refused message: closed without accept
      }
      assertEquals(List.of(), names("tmp"));
      assertEquals(List.of(), names("queue"));
      assertEquals(List.of(), spool.list());
    }
  }

  @Test
  void failedAcceptLeavesNothingVisible() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      // A disk error at the rename: queue/ is no longer a directory (chmod does not stop root).
      Path queue = dir.resolve("queue");
      Files.delete(queue);
      Files.writeString(queue, "not a directory");
      Incoming in = spool.receive();
      try (OutputStream out = in.body()) {
        out.write("x\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      in.headers(HEADERS);
      assertThrows(IOException.class, () -> spool.accept(in, envelope(in.id(), in.size(), "b@example.org")));
      in.close();
      Files.delete(queue);
      Files.createDirectory(queue);
      assertEquals(List.of(), names("tmp"));
      assertEquals(List.of(), spool.list());
    }
  }

  @Test
  void recoveryRemovesUnfinishedFilesAndKeepsQueuedMessages() throws IOException {
    String id;
    try (Spool spool = Spool.open(dir)) {
      id = spool(spool, "kept\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      // a crash mid-receive leaves files in tmp/
      Incoming half = spool.receive();
      try (OutputStream out = half.body()) {
        out.write(new byte[Incoming.MEMORY_LIMIT + 5]);
      }
      Files.writeString(dir.resolve("tmp").resolve(half.id() + ".env"), "signet-envelope 1\nid ");
    }
    try (Spool spool = Spool.open(dir)) {
      assertEquals(new SpoolRecovery.Result(2, List.of(), 1, 0, List.of()), spool.recovery());
      assertEquals(List.of(), names("tmp"));
      assertEquals(List.of(id), spool.list().stream().map(Envelope::id).toList());
    }
  }

  @Test
  void recoveryQuarantinesIncompleteAndCorruptEntries() throws IOException {
    String good;
    String updated;
    String badPrefix;
    String badEnv;
    String removing;
    try (Spool spool = Spool.open(dir)) {
      good = spool(spool, "1\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      updated = spool(spool, "2\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org", "c@example.net");
      Envelope e = spool.envelope(updated);
      spool.update(e.withRecipient(0, e.recipients().get(0).delivered(new Reply(250, "2.0.0", "ok", Optional.empty()))));
      badPrefix = spool(spool, "3\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      badEnv = spool(spool, "4\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      spool.update(spool.envelope(badEnv));
      removing = spool(spool, "5\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      spool.update(spool.envelope(removing));
    }
    Path queue = dir.resolve("queue");
    // A crash between the two deletions of remove(): the .env is left alone.
    Files.delete(queue.resolve(removing + ".msg"));
    Path msg = queue.resolve(badPrefix + ".msg");
    byte[] bytes = Files.readAllBytes(msg);
    bytes[2] = 'X'; // "siXnet-envelope 1"
    Files.write(msg, bytes);
    byte[] env = Files.readAllBytes(queue.resolve(badEnv + ".env"));
    Files.write(queue.resolve(badEnv + ".env"), Arrays.copyOf(env, env.length / 2));
    Files.writeString(queue.resolve("stray.txt"), "?");
    // An older spool's message file without its envelope: never acknowledged.
    String lonely = new QueueId(java.time.Clock.systemUTC()).next();
    Files.writeString(queue.resolve(lonely + ".eml"), "From: a@example.com\r\n\r\nx\r\n");
    try (Spool spool = Spool.open(dir)) {
      assertEquals(2, spool.recovery().queued());
      assertEquals(List.of(good, updated), spool.list().stream().map(Envelope::id).toList());
      assertEquals(State.DELIVERED, spool.envelope(updated).recipients().get(0).state(), "the .env wins");
      assertEquals(List.of(good + ".msg", updated + ".env", updated + ".msg"), names("queue"));
      List<String> expected = new ArrayList<>(List.of(badPrefix + ".msg", badEnv + ".env", badEnv + ".msg",
          lonely + ".eml", "stray.txt"));
      expected.sort(null);
      assertEquals(expected, names("corrupt"));
    }
  }

  private static final SizeOrdering KEPT = new SizeOrdering(true, "ext4 (test)");
  private static final SizeOrdering NOT_KEPT = new SizeOrdering(false, "ext4, data=writeback (test)");

  /** Cuts {@code id}'s .msg: in its body, inside its envelope, and to nothing; updates a fourth first. */
  private List<String> crashCutFourMessages(SizeOrdering ordering) throws IOException {
    List<String> ids = new ArrayList<>();
    try (Spool spool = Spool.open(dir, ordering)) {
      for (int i = 0; i < 5; i++) {
        ids.add(spool(spool, ("body " + i + "\r\n").repeat(50).getBytes(StandardCharsets.US_ASCII), "b@example.org"));
      }
      spool.update(spool.envelope(ids.get(3))); // acknowledged: it has an .env
      assertEquals(List.of(), names("tmp"), "written in tmp/, then renamed into queue/");
    }
    Path queue = dir.resolve("queue");
    long prefix = EnvelopeFormat.format(new SpoolView(queue).envelope(ids.get(0))).length; // the same for all five
    truncate(queue.resolve(ids.get(0) + ".msg"), prefix + 40); // inside the body
    truncate(queue.resolve(ids.get(1) + ".msg"), prefix / 2); // inside the envelope
    truncate(queue.resolve(ids.get(2) + ".msg"), 0); // nothing written back at all
    truncate(queue.resolve(ids.get(3) + ".msg"), prefix + 40); // accepted and updated, then damaged
    return ids;
  }

  private static void truncate(Path file, long length) throws IOException {
    try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.WRITE)) {
      channel.truncate(length);
    }
  }

  @Test
  void recoveryDeletesMessagesCutShortByACrashBeforeTheirFsyncWhereTheFileSystemKeepsSizeBehindData()
      throws IOException {
    List<String> ids = crashCutFourMessages(KEPT);
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(3, spool.recovery().cutShort());
      assertEquals(1, spool.recovery().queued());
      assertEquals(List.of(ids.get(4)), spool.list().stream().map(Envelope::id).toList());
      assertEquals(List.of(ids.get(4) + ".msg"), names("queue"));
      List<String> expected = new ArrayList<>(List.of(ids.get(3) + ".env", ids.get(3) + ".msg"));
      expected.sort(null);
      assertEquals(expected, names("corrupt"), "a message with an .env was acknowledged: kept for a human");
    }
  }

  @Test
  void elsewhereAMessageCutShortIsDamageAndGoesToCorrupt() throws IOException {
    List<String> ids = crashCutFourMessages(NOT_KEPT);
    try (Spool spool = Spool.open(dir, NOT_KEPT)) {
      assertEquals(0, spool.recovery().cutShort());
      assertEquals(1, spool.recovery().queued());
      assertEquals(List.of(ids.get(4) + ".msg"), names("queue"));
      List<String> expected = new ArrayList<>(List.of(ids.get(0) + ".msg", ids.get(1) + ".msg", ids.get(2) + ".msg",
          ids.get(3) + ".env", ids.get(3) + ".msg"));
      expected.sort(null);
      assertEquals(expected, names("corrupt"));
    }
  }

  @Test
  void bothOrdersQueueWholeMessagesWithOneDirectoryFsyncEach() throws IOException {
    for (SizeOrdering ordering : List.of(KEPT, NOT_KEPT)) {
      Path own = dir.resolve(ordering.holds() ? "kept" : "not-kept");
      byte[] small = "x\r\n".repeat(2000).getBytes(StandardCharsets.US_ASCII);
      byte[] spilled = "y\r\n".repeat(Incoming.MEMORY_LIMIT / 3 + 10).getBytes(StandardCharsets.US_ASCII);
      List<String> ids = new ArrayList<>();
      try (Spool spool = Spool.open(own, ordering)) {
        assertEquals(ordering, spool.ordering());
        for (byte[] body : List.of(small, spilled)) {
          String id = spool(spool, body, "b@example.org");
          ids.add(id);
          assertArrayEquals(concat(HEADERS, body), read(spool, id));
          try (Stream<Path> left = Files.list(own.resolve("tmp"))) {
            assertEquals(0, left.count(), "nothing left in tmp/");
          }
        }
        assertEquals(2, spool.commitStats()[1] + (ordering.holds() ? spool.slotAccepts() : 0),
            "one directory commit per message, or none written into a slot (a spare's rename has one)");
        assertEquals(ordering.holds() ? 2 : spool.slotAccepts(), spool.loneAccepts(),
            "renamed in before the fsync where it holds, else only written into a spare");
      }
      try (Spool spool = Spool.open(own, ordering)) {
        assertEquals(2, spool.recovery().queued());
        assertEquals(0, spool.recovery().cutShort());
        assertEquals(ids, spool.list().stream().map(Envelope::id).toList());
      }
    }
  }

  private static final byte[] UNFILLED =
      "X-Sig: \0\0\0\0\r\nFrom: a@example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FILLED = "X-Sig: abcd\r\nFrom: a@example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int SIGNATURES = "X-Sig: abcd\r\n".length();

  private static final Incoming.Filler FILL = block -> System.arraycopy(FILLED, 0, block, 0, SIGNATURES);

  /** Receives and accepts one message whose header block {@code filler} fills in; returns its id. */
  static String spoolUnfilled(Spool spool, byte[] body, Incoming.Filler filler) throws IOException {
    try (Incoming in = spool.receive()) {
      try (OutputStream out = in.body()) {
        out.write(body);
      }
      in.headers(UNFILLED.clone(), SIGNATURES, filler);
      spool.accept(in, envelope(in.id(), in.size(), "b@example.org"));
      return in.id();
    }
  }

  @Test
  void placeholdersAreFilledInBeforeTheMessageIsAcceptedInBothOrders() throws IOException {
    for (SizeOrdering ordering : List.of(KEPT, NOT_KEPT)) {
      for (int sessions : List.of(1, 2)) {
        Path own = dir.resolve(ordering.holds() + "-" + sessions);
        byte[] body = "x\r\n".repeat(500).getBytes(StandardCharsets.US_ASCII);
        try (Spool spool = Spool.open(own, ordering)) {
          spool.sessions(() -> sessions);
          String id = spoolUnfilled(spool, body, FILL);
          assertArrayEquals(concat(FILLED, body), read(spool, id));
          assertEquals(ordering.holds() && sessions == 1 ? 1 : 0, spool.loneAccepts());
          assertEquals(1, spool.commitStats()[1], "one directory commit");
        }
        try (Spool spool = Spool.open(own, ordering)) {
          assertEquals(List.of(), spool.recovery().unfinished(), "written back before the 250: nothing to finish");
          assertEquals(1, spool.recovery().queued());
        }
      }
    }
  }

  @Test
  void aFillerThatFailsLeavesNothingQueuedInBothOrders() throws IOException {
    for (SizeOrdering ordering : List.of(KEPT, NOT_KEPT)) {
      Path own = dir.resolve(ordering.holds() ? "kept" : "not-kept");
      try (Spool spool = Spool.open(own, ordering)) {
        IOException refused = new IOException("self-check failed");
        IOException e = assertThrows(IOException.class, () -> spoolUnfilled(spool, "b\r\n".getBytes(
            StandardCharsets.US_ASCII), block -> {
              throw refused;
            }));
        assertSame(refused, e);
        assertEquals(List.of(), spool.list());
        assertEquals(List.of(), names(own.resolve("queue")), "nothing in queue/");
        try (Stream<Path> left = Files.list(own.resolve("tmp"))) {
          assertEquals(0, left.count(), "nothing in tmp/");
        }
      }
    }
  }

  /** Waits (up to 10 s) until the spool has slots ready, which its first lone message asked for. */
  private static void awaitSlots(Spool spool) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (spool.slotsReady() == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no slots ready 10 s after a lone message");
      }
      Thread.sleep(5);
    }
  }

  private void assertSlotsEmpty() throws IOException {
    for (String slot : slotNames()) {
      assertEquals(0, Files.size(dir.resolve("queue").resolve(slot)), slot + " is empty");
    }
  }

  private List<String> slotNames() throws IOException {
    return queueNames(Slots.PREFIX);
  }

  /** The names in queue/ that start with {@code prefix}, sorted. */
  private List<String> queueNames(String prefix) throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("queue"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
    }
  }

  @Test
  void loneMessagesAfterTheFirstAreWrittenIntoSlotsWithNoDirectoryFsync() throws Exception {
    byte[] body = "x\r\n".repeat(500).getBytes(StandardCharsets.US_ASCII);
    List<String> ids = new ArrayList<>();
    try (Spool spool = Spool.open(dir, KEPT)) {
      ids.add(spoolUnfilled(spool, body, FILL)); // no slot yet: renamed in, directory fsynced
      assertEquals(1, spool.commitStats()[1]);
      awaitSlots(spool);
      assertEquals(0, spool.slotAccepts());
      assertSlotsEmpty();
      ids.add(spoolUnfilled(spool, body, FILL));
      assertArrayEquals(concat(FILLED, body), read(spool, ids.get(1)));
      assertEquals(1, spool.commitStats()[1], "no directory fsync for a message written into a slot");
      assertEquals(1, spool.slotAccepts());
      assertSlotsEmpty();
      assertEquals(ids, spool.list().stream().map(Envelope::id).toList());
    }
    assertEquals(List.of(), slotNames(), "a clean close deletes the slots not taken");
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(2, spool.recovery().queued());
      assertEquals(List.of(), spool.recovery().unfinished());
    }
  }

  @Test
  void recoveryRenamesAWholeSlotToItsMsgAndDeletesEmptyAndCutShortOnes() throws IOException {
    byte[] body = "y\r\n".repeat(300).getBytes(StandardCharsets.US_ASCII);
    String whole;
    String cut;
    try (Spool spool = Spool.open(dir, KEPT)) {
      whole = spool(spool, body, "b@example.org");
      cut = spool(spool, body, "b@example.org");
    }
    // As a crash can leave them: a message whose rename from its slot did not reach the disk, one cut
    // short before its fsync returned (never acknowledged), a slot never used, and one nobody can read.
    Path queue = dir.resolve("queue");
    Files.move(queue.resolve(whole + ".msg"), queue.resolve(Slots.PREFIX + "t-1"));
    Files.move(queue.resolve(cut + ".msg"), queue.resolve(Slots.PREFIX + "t-2"));
    truncate(queue.resolve(Slots.PREFIX + "t-2"), Files.size(queue.resolve(Slots.PREFIX + "t-2")) - 10);
    Files.createFile(queue.resolve(Slots.PREFIX + "t-3"));
    Files.write(queue.resolve(Slots.PREFIX + "t-4"), "no envelope\nend\n".getBytes(StandardCharsets.US_ASCII));
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(1, spool.recovery().queued());
      assertEquals(1, spool.recovery().cutShort());
      assertEquals(List.of(whole), spool.list().stream().map(Envelope::id).toList());
      assertArrayEquals(concat(HEADERS, body), read(spool, whole));
      assertEquals(List.of(whole + ".msg"), names("queue"));
      assertEquals(List.of(Slots.PREFIX + "t-4"), names("corrupt"));
    }
  }

  private List<String> spareNames() throws IOException {
    return queueNames(Slots.SPARE_PREFIX);
  }

  @Test
  void withoutSizeOrderingLoneMessagesGoIntoSparesAndWaitForTheirRenamesDirectoryFsync() throws Exception {
    byte[] body = "x\r\n".repeat(500).getBytes(StandardCharsets.US_ASCII);
    List<String> ids = new ArrayList<>();
    try (Spool spool = Spool.open(dir, NOT_KEPT)) {
      ids.add(spoolUnfilled(spool, body, FILL)); // no spare yet: fsynced in tmp/, renamed in, directory fsynced
      assertEquals(0, spool.loneAccepts());
      assertEquals(1, spool.commitStats()[1]);
      awaitSlots(spool);
      assertEquals(List.of(), slotNames(), "no slot a crash would make recovery trust");
      assertFalse(spareNames().isEmpty());
      ids.add(spoolUnfilled(spool, body, FILL));
      assertArrayEquals(concat(FILLED, body), read(spool, ids.get(1)));
      assertEquals(1, spool.slotAccepts(), "written into a spare");
      assertEquals(2, spool.commitStats()[1], "its rename's directory fsync before the 250");
      for (String spare : spareNames()) {
        assertEquals(0, Files.size(dir.resolve("queue").resolve(spare)), spare + " is empty");
      }
      assertEquals(ids, spool.list().stream().map(Envelope::id).toList());
    }
    assertEquals(List.of(), spareNames(), "a clean close deletes the spares not taken");
    try (Spool spool = Spool.open(dir, NOT_KEPT)) {
      assertEquals(2, spool.recovery().queued());
      assertEquals(0, spool.recovery().cutShort());
    }
  }

  @Test
  void recoveryDeletesEverySpareWhateverItHoldsOnAnyFileSystem() throws IOException {
    byte[] body = "y\r\n".repeat(300).getBytes(StandardCharsets.US_ASCII);
    for (SizeOrdering ordering : List.of(NOT_KEPT, KEPT)) {
      Path own = dir.resolve(ordering.holds() ? "kept" : "not-kept");
      String written;
      try (Spool spool = Spool.open(own, ordering)) {
        written = spool(spool, body, "b@example.org");
      }
      // As a crash can leave them: a whole message whose rename from its spare did not reach the disk
      // (its 250 waited for that, so it was never acknowledged), one whose blocks were never written,
      // and one never used. The name says how they were written, whatever the file system is now.
      Path queue = own.resolve("queue");
      Files.move(queue.resolve(written + ".msg"), queue.resolve(Slots.SPARE_PREFIX + "t-1"));
      Files.write(queue.resolve(Slots.SPARE_PREFIX + "t-2"), new byte[4096]);
      Files.createFile(queue.resolve(Slots.SPARE_PREFIX + "t-3"));
      try (Spool spool = Spool.open(own, ordering)) {
        assertEquals(0, spool.recovery().queued());
        assertEquals(2, spool.recovery().cutShort(), "the two that held something");
        assertEquals(List.of(), spool.list());
        assertEquals(List.of(), names(queue));
        assertEquals(List.of(), names(own.resolve("corrupt")));
      }
    }
  }

  @Test
  void aMessageRefusedAfterItWasWrittenIntoASlotOrASpareLeavesNothingQueued() throws Exception {
    byte[] body = "z\r\n".repeat(200).getBytes(StandardCharsets.US_ASCII);
    for (SizeOrdering ordering : List.of(KEPT, NOT_KEPT)) {
      Path own = dir.resolve(ordering.holds() ? "kept" : "not-kept");
      try (Spool spool = Spool.open(own, ordering)) {
        String first = spool(spool, body, "b@example.org");
        awaitSlots(spool);
        IOException refused = new IOException("self-check failed");
        // A spare may be renamed to its .msg by the sync thread before the filler fails: taken out again.
        assertSame(refused, assertThrows(IOException.class, () -> spoolUnfilled(spool, body, block -> {
          throw refused;
        })));
        assertEquals(1, spool.slotAccepts(), "written into a slot or a spare");
        assertEquals(List.of(first), spool.list().stream().map(Envelope::id).toList());
        // The slot or spare it was written into is gone (names() leaves out only empty ones).
        assertEquals(List.of(first + ".msg"), names(own.resolve("queue")));
      }
    }
  }

  /** Puts the placeholders back into a queued message, as a crash before their write-back leaves it. */
  private void crashBeforeWriteBack(String id) throws IOException {
    Path msg = dir.resolve("queue").resolve(id + ".msg");
    long prefix = EnvelopeFormat.format(new SpoolView(dir.resolve("queue")).envelope(id)).length;
    try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(msg,
        java.nio.file.StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(UNFILLED, 0, SIGNATURES), prefix);
    }
  }

  @Test
  void aMessageWhoseFilledInBytesACrashKeptOffTheDiskIsFinishedAtStart() throws IOException {
    byte[] body = "body\r\n".repeat(100).getBytes(StandardCharsets.US_ASCII);
    String id;
    String whole;
    try (Spool spool = Spool.open(dir, KEPT)) {
      id = spoolUnfilled(spool, body, FILL);
      whole = spool(spool, body, "c@example.org");
    }
    crashBeforeWriteBack(id);
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(List.of(id), spool.recovery().unfinished());
      assertEquals(List.of(id), spool.unfinished());
      assertEquals(2, spool.recovery().queued());
      assertTrue(spool.finish(id, block -> {
        assertArrayEquals(UNFILLED, block, "the filler gets the header block");
        FILL.fill(block);
      }));
      assertEquals(List.of(), spool.unfinished());
      assertArrayEquals(concat(FILLED, body), read(spool, id));
      assertArrayEquals(concat(HEADERS, body), read(spool, whole));
    }
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(List.of(), spool.recovery().unfinished(), "finished durably");
      assertEquals(List.of(id, whole), spool.list().stream().map(Envelope::id).toList());
    }
  }

  @Test
  void aMessageThatCannotBeFinishedGoesToCorruptNotOut() throws IOException {
    String id;
    String left;
    try (Spool spool = Spool.open(dir, KEPT)) {
      id = spoolUnfilled(spool, "b\r\n".getBytes(StandardCharsets.US_ASCII), FILL);
      left = spoolUnfilled(spool, "c\r\n".getBytes(StandardCharsets.US_ASCII), FILL);
      spool.update(spool.envelope(id)); // it has an .env, which goes with it
    }
    crashBeforeWriteBack(id);
    crashBeforeWriteBack(left);
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(List.of(id, left), spool.unfinished());
      assertFalse(spool.finish(id, block -> {
        throw new IOException("no key d=example.com s=rsa2026");
      }));
      assertFalse(spool.finish(left, block -> {}), "a filler that leaves placeholders did not finish it");
      assertEquals(List.of(), spool.unfinished());
      assertEquals(List.of(), spool.list());
      List<String> expected = new ArrayList<>(List.of(id + ".env", id + ".msg", left + ".msg"));
      expected.sort(null);
      assertEquals(expected, names("corrupt"));
    }
  }

  @Test
  void aMessageThatCannotBeFinishedKeepsAnEarlierFileOfItsNameInCorrupt() throws IOException {
    String id;
    try (Spool spool = Spool.open(dir, KEPT)) {
      id = spoolUnfilled(spool, "b\r\n".getBytes(StandardCharsets.US_ASCII), FILL);
    }
    crashBeforeWriteBack(id);
    Path earlier = dir.resolve("corrupt").resolve(id + ".msg");
    Files.writeString(earlier, "kept for a human earlier");
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertFalse(spool.finish(id, block -> {
        throw new IOException("no key");
      }));
    }
    assertEquals("kept for a human earlier", Files.readString(earlier));
    List<String> corrupt = names("corrupt");
    assertEquals(2, corrupt.size(), corrupt.toString());
    assertTrue(corrupt.get(1).startsWith(id + ".msg."), corrupt.toString());
  }

  @Test
  void recoveryReadsAHeaderBlockLongerThanOneReadToItsEnd() throws IOException {
    StringBuilder fields = new StringBuilder("From: a@example.com\r\n");
    for (int i = 0; fields.length() < 20_000; i++) {
      fields.append("X-Field-").append(i).append(": ").append("v".repeat(60)).append("\r\n");
    }
    byte[] block = (fields + "Last: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] body = "body\r\n".getBytes(StandardCharsets.US_ASCII);
    List<String> ids = new ArrayList<>();
    try (Spool spool = Spool.open(dir, KEPT)) {
      for (int i = 0; i < 2; i++) {
        try (Incoming in = spool.receive()) {
          try (OutputStream out = in.body()) {
            out.write(body);
          }
          in.headers(block.clone());
          spool.accept(in, envelope(in.id(), in.size(), "b@example.org"));
          ids.add(in.id());
        }
      }
    }
    // A NUL in the last field, past the first 8 KB read and next to the empty line that ends the block.
    Path msg = dir.resolve("queue").resolve(ids.get(0) + ".msg");
    long prefix = EnvelopeFormat.format(new SpoolView(dir.resolve("queue")).envelope(ids.get(0))).length;
    try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(msg,
        java.nio.file.StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(new byte[] {0}), prefix + block.length - 5);
    }
    try (Spool spool = Spool.open(dir, KEPT)) {
      assertEquals(List.of(ids.get(0)), spool.unfinished(), "the other message's block has no NUL");
      int[] seen = new int[1];
      assertTrue(spool.finish(ids.get(0), b -> {
        seen[0] = b.length;
        b[b.length - 5] = 'x';
      }));
      assertEquals(block.length, seen[0], "the whole block, up to and with its empty line");
      assertArrayEquals(concat(block, body), read(spool, ids.get(0)));
    }
  }

  @Test
  void anOlderSpoolsEmlAndEnvPairsAreConvertedWithTheirState() throws IOException {
    byte[] message = concat(HEADERS, "old\r\n".getBytes(StandardCharsets.US_ASCII));
    String id = new QueueId(java.time.Clock.systemUTC()).next();
    Envelope e = envelope(id, message.length, "b@example.org", "c@example.net");
    e = e.withRecipient(0, e.recipients().get(0).delivered(new Reply(250, "2.0.0", "ok", Optional.empty())));
    Path queue = dir.resolve("queue");
    Files.createDirectories(queue);
    Files.write(queue.resolve(id + ".eml"), message);
    Files.write(queue.resolve(id + ".env"), EnvelopeFormat.format(e));
    try (Spool spool = Spool.open(dir)) {
      assertEquals(1, spool.recovery().queued());
      assertEquals(List.of(), spool.recovery().quarantined());
      assertEquals(List.of(id + ".msg"), names("queue"));
      assertEquals(e, spool.envelope(id));
      assertArrayEquals(message, read(spool, id));
      dev.signet.delivery.MessageSource source = spool.message(e);
      assertEquals(EnvelopeFormat.format(e).length, source.offset(), "the message follows its envelope");
    }
    // A crash in the conversion after the .msg was renamed in, before the .eml and .env were deleted.
    Files.write(queue.resolve(id + ".eml"), message);
    Files.write(queue.resolve(id + ".env"), EnvelopeFormat.format(e));
    try (Spool spool = Spool.open(dir)) {
      assertEquals(1, spool.recovery().queued());
      assertEquals(List.of(), spool.recovery().quarantined());
      assertEquals(List.of(id + ".env", id + ".msg"), names("queue"), "the leftover .eml is deleted");
      assertEquals(e, spool.envelope(id));
      assertArrayEquals(message, read(spool, id));
      spool.remove(id);
      assertEquals(List.of(), names("queue"));
    }
  }

  @Test
  void anUpdatedMessageIsRemovedWithItsEnvelope() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      String id = spool(spool, "x\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org", "c@example.net");
      Envelope e = spool.envelope(id);
      spool.update(e.withRecipient(0, e.recipients().get(0).delivered(new Reply(250, "2.0.0", "ok", Optional.empty()))));
      assertEquals(List.of(id + ".env", id + ".msg"), names("queue"));
      spool.remove(id);
      assertEquals(List.of(), names("queue"));
      assertEquals(List.of(), spool.list());
    }
  }

  @Test
  void anEnvelopeWhoseSizeIsNotTheMessagesIsRefused() throws IOException {
    try (Spool spool = Spool.open(dir); Incoming in = spool.receive()) {
      try (OutputStream out = in.body()) {
        out.write("x\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      in.headers(HEADERS);
      assertThrows(IllegalArgumentException.class,
          () -> spool.accept(in, envelope(in.id(), in.size() + 1, "b@example.org")));
      assertEquals(List.of(), names("queue"));
    }
  }

  @Test
  void recipientStateUpdatesSurviveARestart() throws IOException {
    String id;
    Instant next = Instant.parse("2026-11-25T19:00:00Z");
    try (Spool spool = Spool.open(dir)) {
      id = spool(spool, "x\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org", "c@example.net");
      Envelope e = spool.envelope(id);
      e = e.withRecipient(0, e.recipients().get(0).delivered(new Reply(250, "2.0.0", "ok", Optional.empty())))
          .withRecipient(1, e.recipients().get(1).deferred(new Reply(451, "4.3.0", "try later", Optional.empty()), next));
      spool.update(e);
    }
    try (Spool spool = Spool.open(dir)) {
      Envelope e = spool.envelope(id);
      assertEquals(new Recipient("b@example.org", State.DELIVERED, 1, Optional.empty(),
          Optional.of(new Reply(250, "2.0.0", "ok", Optional.empty())), false),
          e.recipients().get(0));
      assertEquals(new Recipient("c@example.net", State.PENDING, 1, Optional.of(next),
          Optional.of(new Reply(451, "4.3.0", "try later", Optional.empty())), false),
          e.recipients().get(1));
      assertFalse(e.finished());
      assertEquals(List.of(), names("tmp"));
    }
  }

  @Test
  void removedMessageIsGone() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      String id = spool(spool, "x\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      spool.remove(id);
      assertEquals(List.of(), spool.list());
      assertEquals(List.of(), names("queue"));
      assertThrows(IOException.class, () -> spool.update(envelope(id, 1, "b@example.org")));
    }
  }

  @Test
  void aSecondOpenOfTheSameSpoolIsRefused() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      IOException e = assertThrows(IOException.class, () -> Spool.open(dir));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }
    Spool.open(dir).close(); // released on close
  }

  @Test
  void withSeveralClientSessionsOpenEveryMessageIsFsyncedInTmpAndRenamedInByTheCommitter() throws IOException {
    int[] open = {2};
    try (Spool spool = Spool.open(dir, KEPT)) {
      spool.sessions(() -> open[0]);
      String first = spool(spool, "1\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      assertEquals(0, spool.loneAccepts());
      open[0] = 1;
      String second = spool(spool, "2\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      assertEquals(1, spool.loneAccepts());
      assertEquals(List.of(first, second), spool.list().stream().map(Envelope::id).toList());
      assertEquals(2, spool.commitStats()[1]);
    }
  }

  @Test
  void concurrentAcceptsShareDirectoryFsyncs() throws Exception {
    concurrentAccepts(dir.resolve("kept"), KEPT);
  }

  @Test
  void concurrentAcceptsShareDirectoryFsyncsWhereSizeMayRunAheadOfData() throws Exception {
    concurrentAccepts(dir.resolve("not-kept"), NOT_KEPT);
  }

  /** Both orders at once where they may mix: every message whole, nothing left in tmp/, fsyncs shared. */
  private void concurrentAccepts(Path dir, SizeOrdering ordering) throws Exception {
    int threads = 16;
    int each = 20;
    try (Spool spool = Spool.open(dir, ordering)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<List<String>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(pool.submit(() -> {
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            ids.add(spool(spool, ("message " + thread + "/" + i + "\r\n").getBytes(StandardCharsets.US_ASCII),
                "b@example.org"));
          }
          return ids;
        }));
      }
      List<String> all = new ArrayList<>();
      for (Future<List<String>> f : results) {
        all.addAll(f.get());
      }
      pool.shutdown();
      all.sort(null);
      assertEquals(all, spool.list().stream().map(Envelope::id).toList());
      long[] stats = spool.commitStats();
      assertEquals(threads * each, stats[1] + (ordering.holds() ? spool.slotAccepts() : 0),
          "a commit each, or none written into a slot (a spare's rename has one)");
      assertTrue(stats[0] < stats[1], "directory fsyncs " + stats[0] + " for " + stats[1] + " commits");
      for (String id : all) {
        String text = new String(read(spool, id), StandardCharsets.US_ASCII);
        assertTrue(text.startsWith(new String(HEADERS, StandardCharsets.US_ASCII) + "message "), id + ": " + text);
      }
      try (Stream<Path> left = Files.list(dir.resolve("tmp"))) {
        assertEquals(0, left.count(), "nothing left in tmp/");
      }
    }
    try (Spool spool = Spool.open(dir, ordering)) {
      assertEquals(threads * each, spool.recovery().queued());
      assertEquals(0, spool.recovery().cutShort());
    }
  }

  @Test
  void queueIdsAreUniqueSortableAndFileNameSafe() {
    QueueId ids = new QueueId(java.time.Clock.systemUTC());
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      made.add(ids.next());
    }
    List<String> sorted = new ArrayList<>(made);
    sorted.sort(null);
    assertEquals(made, sorted);
    assertEquals(made.size(), made.stream().distinct().count());
    assertTrue(made.stream().allMatch(id -> id.matches("[0-9A-Z]{18}") && QueueId.isValid(id)));
    assertFalse(QueueId.isValid("../../etc/passwd0"));
  }

  @Test
  void aViewReadsARunningSpoolWithoutItsLock() throws IOException {
    try (Spool spool = Spool.open(dir)) {
      String id = spool(spool, "x\r\n".getBytes(StandardCharsets.US_ASCII), "b@example.org");
      SpoolView view = SpoolView.of(dir); // a view has no way to change the spool: it has no such method
      assertEquals(List.of(id), view.list().stream().map(Envelope::id).toList());
      try (InputStream viewed = view.open(id)) {
        assertArrayEquals(read(spool, id), viewed.readAllBytes());
      }
      assertTrue(Spool.inUse(dir), "the owner still holds the lock");
      assertEquals(1, spool.list().size(), "the owner is unaffected");
    }
    assertThrows(IOException.class, () -> SpoolView.of(dir.resolve("nothing-here")));
  }
}
