package dev.signet.dkim;

/**
 * What signing tells the outside world: how long a message's signatures took, a signature that
 * failed its self-check, a reload of the keys. The relay counts them (its metrics adapt this);
 * {@link #NONE} ignores them. Implementations must be thread-safe and must not throw.
 */
public interface SigningListener {
  SigningListener NONE = new SigningListener() {};

  /** One message's signatures were made and checked, in {@code nanos}. */
  default void signed(long nanos) {}

  /** A signature did not verify with its key's public half; the message was refused. */
  default void selfCheckFailed() {}

  /** A reload of the key directory ended: in force ({@code ok}), or refused with the old keys kept. */
  default void keysReloaded(boolean ok) {}
}
