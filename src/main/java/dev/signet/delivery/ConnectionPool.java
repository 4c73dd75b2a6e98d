package dev.signet.delivery;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Idle SMTP connections by route, so several messages to one host share a session (RFC 5321 §3.3
 * allows several transactions per session). A connection is lent to one user at a time.
 */
final class ConnectionPool {

  private final Map<Route, Deque<SmtpConnection>> idle = new HashMap<>();

  /** An idle connection to {@code route} that still answers RSET, or null. */
  SmtpConnection take(Route route, boolean utf8) {
    if (utf8) {
      return null; // SMTPUTF8 sessions are set up for one message (see SmtpConnection.open)
    }
    while (true) {
      SmtpConnection c;
      synchronized (this) {
        Deque<SmtpConnection> q = idle.get(route);
        c = q == null ? null : q.pollFirst();
      }
      if (c == null) {
        return null;
      }
      if (c.reusable(Instant.now()) && c.reset()) {
        return c;
      }
      c.close();
    }
  }

  void give(SmtpConnection connection) {
    synchronized (this) {
      idle.computeIfAbsent(connection.route, k -> new ArrayDeque<>()).addFirst(connection);
    }
  }

  /** Closes connections idle longer than allowed. */
  void closeIdle(SenderSettings settings) {
    Instant now = Instant.now();
    List<SmtpConnection> expired = new ArrayList<>();
    synchronized (this) {
      for (Iterator<Deque<SmtpConnection>> qs = idle.values().iterator(); qs.hasNext(); ) {
        Deque<SmtpConnection> q = qs.next();
        q.removeIf(c -> !c.reusable(now) && expired.add(c));
        if (q.isEmpty()) {
          qs.remove();
        }
      }
    }
    expired.forEach(SmtpConnection::close);
  }

  void closeAll() {
    List<SmtpConnection> all = new ArrayList<>();
    synchronized (this) {
      idle.values().forEach(all::addAll);
      idle.clear();
    }
    all.forEach(SmtpConnection::close);
  }
}
