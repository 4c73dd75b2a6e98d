package dev.signet.dkim;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Idle objects per key, each borrowed by one thread at a time and given back: the signer's initialised
 * {@code Signature} objects ({@link RsaKeySigner}) and the self-check's verifiers ({@link SelfCheck}),
 * so neither a provider look-up nor an {@code init} is paid per message. A pool grows to the number
 * of concurrent users of its key at most.
 */
final class KeyedPools<K, T> {
  /** More keys than this means keys were reloaded many times: the old keys' objects are dropped. */
  private static final int MAX_KEYS = 64;

  private final Map<K, Queue<T>> idle = new ConcurrentHashMap<>();

  /** The idle objects of {@code key}: poll one (null = make a new one), offer it back when done. */
  Queue<T> of(K key) {
    Queue<T> pool = idle.get(key);
    if (pool == null) {
      if (idle.size() >= MAX_KEYS) {
        idle.clear();
      }
      pool = idle.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>());
    }
    return pool;
  }
}
