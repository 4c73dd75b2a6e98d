package dev.signet.shaping;

/**
 * One SMTP session's place in its group's connection budget: taken before the session opens, given
 * back when it closes (idle kept sessions keep theirs). Counts the messages the session carried, for
 * {@code messages-per-connection}.
 */
public final class Lease implements AutoCloseable {
  private final Runnable release;
  private final int maxMessages;
  private int messages;
  private boolean closed;

  Lease(Runnable release, int maxMessages) {
    this.release = release;
    this.maxMessages = maxMessages;
  }

  /** One more message went out on this session. */
  public synchronized void sent() {
    messages++;
  }

  /** True while the session may carry another message. */
  public synchronized boolean reusable() {
    return !closed && messages < maxMessages;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    release.run();
  }
}
