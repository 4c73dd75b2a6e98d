package dev.signet.admin;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.signet.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One HTTP listener of the JDK's server with a virtual thread per exchange, so a slow client holds
 * only its own thread. Kept apart from the API so that the metrics listener can share it.
 */
final class HttpEndpoint implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private HttpEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds {@code at} and serves {@code handler} under {@code path}.
   *
   * @throws IOException naming the address when it cannot be bound
   */
  static HttpEndpoint start(HostPort at, String threadName, String path, HttpHandler handler) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(at.host()), at.port()), 64);
    } catch (IOException e) {
      throw new IOException("cannot listen on " + at + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(threadName + "-", 0).factory());
    server.setExecutor(executor);
    server.createContext(path, handler);
    server.start();
    return new HttpEndpoint(server, executor);
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
