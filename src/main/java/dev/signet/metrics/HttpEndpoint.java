package dev.signet.metrics;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.signet.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One HTTP listener of the JDK's server, the one way Signet sets one up (the metrics and health
 * listener, the admin API): it binds, naming the address when it cannot; runs every exchange on its
 * own virtual thread, so a slow client holds only its own thread; and stops the server and its
 * threads together.
 *
 * <p>Anyone who can reach a port must not be able to stall it (a liveness probe that times out
 * restarts the relay): a request not read in full within {@link #REQUEST_SECONDS} is closed by the
 * JDK server. That limit is the process-wide {@code sun.net.httpserver.maxReqTime}, read once when
 * the first server is created, so it is set here, before any listener binds, unless the operator
 * set it.
 */
public final class HttpEndpoint implements AutoCloseable {

  /** Seconds a client has to send its whole request (headers and body). */
  public static final int REQUEST_SECONDS = 10;

  private final HttpServer server;
  private final ExecutorService executor;

  private HttpEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds {@code at} and serves each of {@code routes} (a path and everything under it) with its handler.
   *
   * @param threadName the prefix of the exchanges' thread names
   * @throws IOException naming the address when it cannot be bound
   */
  public static HttpEndpoint start(HostPort at, String threadName, Map<String, HttpHandler> routes)
      throws IOException {
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(at.host()), at.port()), 64);
    } catch (IOException e) {
      throw new IOException("cannot listen on " + at + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(threadName + "-", 0).factory());
    server.setExecutor(executor);
    routes.forEach(server::createContext);
    server.start();
    return new HttpEndpoint(server, executor);
  }

  /** Serves {@code path} (and everything under it) with {@code handler} from now on. */
  public void route(String path, HttpHandler handler) {
    server.createContext(path, handler);
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
