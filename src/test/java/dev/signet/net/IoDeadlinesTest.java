package dev.signet.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Read, write and session limits kept by the watch thread on real loopback sockets, read from virtual threads. */
class IoDeadlinesTest {
  private IoDeadlines deadlines;
  private ServerSocket server;
  private Socket client;
  private Socket peer;

  @BeforeEach
  void connect() throws IOException {
    deadlines = new IoDeadlines("test-io-deadlines");
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    client = new Socket();
    client.setReceiveBufferSize(4096);
    client.setSendBufferSize(4096);
    client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
    peer = server.accept();
  }

  @AfterEach
  void close() throws IOException {
    client.close();
    peer.close();
    server.close();
    deadlines.close();
  }

  /** Runs {@code body} on a virtual thread (as the relay does) and returns what it threw, or null. */
  private static Throwable onVirtualThread(Check body) throws InterruptedException {
    Throwable[] thrown = {null};
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        body.run();
      } catch (Throwable e) {
        thrown[0] = e;
      }
    });
    assertTrue(t.join(Duration.ofSeconds(20)), "the virtual thread did not finish");
    return thrown[0];
  }

  @FunctionalInterface
  private interface Check {
    void run() throws Exception;
  }

  @Test
  void aReadThatWaitsPastItsLimitTimesOut() throws Exception {
    IoDeadlines.Watched w = deadlines.watch(client).readLimit(Duration.ofMillis(200));
    InputStream in = w.input(client.getInputStream());
    long start = System.nanoTime();
    Throwable thrown = onVirtualThread(() -> in.read(new byte[10]));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(thrown instanceof SocketTimeoutException, String.valueOf(thrown));
    assertTrue(ms >= 200 && ms < 5_000, "timed out after " + ms + " ms");
  }

  @Test
  void timeSpentBetweenReadsDoesNotCount() throws Exception {
    IoDeadlines.Watched w = deadlines.watch(client).readLimit(Duration.ofMillis(100));
    InputStream in = w.input(client.getInputStream());
    OutputStream toClient = peer.getOutputStream();
    Throwable thrown = onVirtualThread(() -> {
      for (int i = 0; i < 3; i++) {
        toClient.write('a' + i);
        toClient.flush();
        assertEquals('a' + i, in.read());
        Thread.sleep(400); // busy elsewhere, not reading: four times the limit
      }
    });
    assertEquals(null, thrown);
  }

  @Test
  void dataThatComesWithinTheLimitIsRead() throws Exception {
    IoDeadlines.Watched w = deadlines.watch(client).readLimit(Duration.ofMillis(1_000));
    InputStream in = w.input(client.getInputStream());
    OutputStream toClient = peer.getOutputStream();
    Thread writer = Thread.ofPlatform().start(() -> {
      try {
        Thread.sleep(300);
        toClient.write("ok".getBytes());
        toClient.flush();
      } catch (IOException | InterruptedException e) {
        throw new RuntimeException(e);
      }
    });
    byte[] got = new byte[2];
    Throwable thrown = onVirtualThread(() -> assertEquals(2, in.readNBytes(got, 0, 2)));
    writer.join();
    assertEquals(null, thrown);
    assertEquals("ok", new String(got));
  }

  @Test
  void theEndOfTheStreamIsStillTheEnd() throws Exception {
    IoDeadlines.Watched w = deadlines.watch(client).readLimit(Duration.ofSeconds(5));
    InputStream in = w.input(client.getInputStream());
    peer.close();
    int[] read = {0};
    assertEquals(null, onVirtualThread(() -> read[0] = in.read()));
    assertEquals(-1, read[0]);
  }

  @Test
  void aWriteThePeerDoesNotTakeTimesOut() throws Exception {
    IoDeadlines.Watched w = deadlines.watch(client).writeLimit(Duration.ofMillis(300));
    OutputStream out = w.output(client.getOutputStream());
    byte[] block = new byte[64 * 1024];
    long start = System.nanoTime();
    Throwable thrown = onVirtualThread(() -> {
      for (int i = 0; i < 10_000; i++) { // 640 MB: far more than the socket buffers hold
        out.write(block);
      }
    });
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(thrown instanceof SocketTimeoutException, String.valueOf(thrown));
    assertTrue(ms < 10_000, "timed out after " + ms + " ms");
    assertTrue(client.isClosed());
  }

  @Test
  void theDeadlineClosesTheSocketAndRunsItsAction() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    IoDeadlines.Watched w = deadlines.watch(client).deadline(Duration.ofMillis(200), ran::countDown);
    InputStream in = w.input(client.getInputStream());
    Throwable thrown = onVirtualThread(() -> in.read());
    assertTrue(thrown instanceof IOException, String.valueOf(thrown));
    assertTrue(ran.await(5, TimeUnit.SECONDS));
    assertTrue(client.isClosed());
  }

  @Test
  void aClosedSocketIsNoLongerWatched() throws Exception {
    deadlines.watch(client).readLimit(Duration.ofMillis(100));
    assertEquals(1, deadlines.size());
    client.close();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (deadlines.size() > 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertEquals(0, deadlines.size());
  }
}
