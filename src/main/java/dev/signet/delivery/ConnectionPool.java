package dev.signet.delivery;

import dev.signet.shaping.Lease;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Idle SMTP connections by shaping group and route, so several messages to one host share a session
 * (RFC 5321 §3.3 allows several transactions per session). A connection is lent to one user at a
 * time; an idle one keeps its place in its group's connection budget (its {@link Lease}) until closed.
 */
final class ConnectionPool {

  /** An idle connection and its place in the group's connection budget. */
  record Kept(SmtpConnection connection, Lease lease) {
    void close() {
      connection.close();
      lease.close();
    }
  }

  private record Key(String group, Route route) {}

  private final Map<Key, Deque<Kept>> idle = new HashMap<>();

  /** An idle connection of {@code group} to {@code route} that still answers RSET, or null. */
  Kept take(String group, Route route, boolean utf8) {
    if (utf8) {
      return null; // SMTPUTF8 sessions are set up for one message (see SmtpConnection.open)
    }
    while (true) {
      Kept k;
      synchronized (this) {
        Deque<Kept> q = idle.get(new Key(group, route));
        k = q == null ? null : q.pollFirst();
      }
      if (k == null) {
        return null;
      }
      if (k.connection().reusable(Instant.now()) && k.lease().reusable() && k.connection().reset()) {
        return k;
      }
      k.close();
    }
  }

  void give(String group, SmtpConnection connection, Lease lease) {
    synchronized (this) {
      idle.computeIfAbsent(new Key(group, connection.route), k -> new ArrayDeque<>()).addFirst(new Kept(connection, lease));
    }
  }

  /** Closes the longest idle connection of {@code group}, freeing its place; false if it has none. */
  boolean closeOneIdle(String group) {
    Kept oldest = null;
    synchronized (this) {
      for (Map.Entry<Key, Deque<Kept>> e : idle.entrySet()) {
        if (e.getKey().group().equals(group) && !e.getValue().isEmpty()) {
          oldest = e.getValue().pollLast();
          break;
        }
      }
    }
    if (oldest == null) {
      return false;
    }
    oldest.close();
    return true;
  }

  /** Closes connections idle longer than allowed. */
  void closeIdle(SenderSettings settings) {
    Instant now = Instant.now();
    List<Kept> expired = new ArrayList<>();
    synchronized (this) {
      for (Iterator<Deque<Kept>> qs = idle.values().iterator(); qs.hasNext(); ) {
        Deque<Kept> q = qs.next();
        q.removeIf(k -> !k.connection().reusable(now) && expired.add(k));
        if (q.isEmpty()) {
          qs.remove();
        }
      }
    }
    expired.forEach(Kept::close);
  }

  void closeAll() {
    List<Kept> all = new ArrayList<>();
    synchronized (this) {
      idle.values().forEach(all::addAll);
      idle.clear();
    }
    all.forEach(Kept::close);
  }
}
