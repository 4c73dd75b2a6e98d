package dev.signet.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Signs messages with DKIM (RFC 6376, RFC 8463, RFC 8301): rsa-sha256 and ed25519-sha256, one
 * DKIM-Signature per key. Thread-safe: one Signer serves every SMTP session.
 *
 * <p>Use: {@link #bodyHash()}, write the body into it and close it, then {@link #sign} with the
 * header fields. The body hash does not depend on the key, so hashing starts before the author
 * domain is known.
 */
public final class Signer {
  private final SignerOptions options;
  private final Clock clock;
  private final HeaderCanonicalizer headerCanon;
  private final HeaderSelection.Policy selectionPolicy;
  private final KeySigner rsa;
  private final KeySigner ed25519;
  private final SelfCheck selfCheck;
  private final SigningListener listener;

  public Signer(SignerOptions options, Clock clock) {
    this(options, clock, SigningListener.NONE);
  }

  /** A signer that reports signing times and self-check failures to {@code listener}. */
  public Signer(SignerOptions options, Clock clock, SigningListener listener) {
    this(options, clock, RsaKeySigner.preferredProvider(), listener);
  }

  /** With a given RSA provider: tests force the JDK fallback this way. */
  Signer(SignerOptions options, Clock clock, Provider rsaProvider) {
    this(options, clock, rsaProvider, SigningListener.NONE);
  }

  private Signer(SignerOptions options, Clock clock, Provider rsaProvider, SigningListener listener) {
    this.options = options;
    this.clock = clock;
    this.listener = listener;
    this.headerCanon = HeaderCanonicalizer.of(options.canonicalization().header());
    this.selectionPolicy = HeaderSelection.Policy.of(options.headers(), options.oversign());
    this.rsa = new RsaKeySigner(rsaProvider);
    this.selfCheck = new SelfCheck(rsaProvider);
    this.ed25519 = new Ed25519KeySigner();
  }

  /** A fresh body hash using the configured body canonicalization. */
  public BodyHash bodyHash() {
    return new BodyHash(options.canonicalization().body());
  }

  /**
   * The DKIM-Signature fields to prepend to the message, one per key in the order given, each
   * folded to lines of at most 78 octets and ending in CRLF. No keys, no fields.
   *
   * @param headers the message's header fields, top to bottom, as they will be transmitted
   * @param body the closed body hash of the message's body
   * @throws DkimException if a key cannot sign (e.g. an RSA key under 1024 bits), or the message
   *     has no From field (550 5.6.0; the message stage normally refuses such input first), or a
   *     signature does not verify with the key's public half (451 4.7.5: never send a bad signature)
   */
  public List<String> sign(List<HeaderField> headers, BodyHash body, List<SigningKey> keys)
      throws DkimException {
    return prepare(headers, body, keys).sign();
  }

  /**
   * {@link #sign} in two steps: this one lays out every DKIM-Signature field (tags, h=, bh=, folding)
   * with each byte of the b= value a {@link #PLACEHOLDER}; {@link Pending#sign} then computes the
   * values. A b= value's length depends only on the key, so each placeholder field is exactly as long
   * and laid out as its complete field: the spool writes the message with the placeholders and
   * fsyncs it while the signatures are computed (docs/ARCHITECTURE.md, "The spool directory").
   *
   * @throws DkimException as {@link #sign} does for a message without From
   */
  public Pending prepare(List<HeaderField> headers, BodyHash body, List<SigningKey> keys) throws DkimException {
    if (body.canonicalization() != options.canonicalization().body()) {
      throw new IllegalArgumentException("body hash made with " + body.canonicalization()
          + " canonicalization, this signer uses " + options.canonicalization());
    }
    long start = System.nanoTime();
    String bh = body.base64();
    long t = clock.instant().getEpochSecond();
    Long x = options.expire().map(d -> t + Math.max(1, d.toSeconds())).orElse(null);
    HeaderSelection selection = HeaderSelection.select(headers, selectionPolicy);
    if (!keys.isEmpty() && !selection.signsFrom()) {
      throw new DkimException(550, "5.6.0", "message has no From header field; DKIM must sign it (RFC 6376 §5.4)");
    }
    ByteArrayOutputStream signed = new ByteArrayOutputStream(2048);
    for (HeaderField field : selection.fields()) {
      signed.writeBytes(headerCanon.canonicalize(field));
    }
    List<String> unsigned = new ArrayList<>(keys.size());
    for (SigningKey key : keys) {
      unsigned.add(SignatureField.unsigned(key, options.canonicalization().toString(), t, x, selection.names(), bh));
    }
    return new Pending(List.copyOf(keys), List.copyOf(unsigned), signed.toByteArray(), headerCanon,
        System.nanoTime() - start);
  }

  /**
   * What {@code b=} holds in a field {@link #prepare} laid out until {@link Pending#sign} filled it:
   * NUL, which no message Signet accepts contains (the message stage refuses it), so a NUL in a
   * queued message's header block means a value that never reached the disk.
   */
  public static final char PLACEHOLDER = '\0';

  /** Signatures laid out by {@link #prepare}, not yet computed. Used by one thread. */
  public final class Pending {
    private final List<SigningKey> keys;
    private final List<String> unsigned;
    private final byte[] selected;
    private final HeaderCanonicalizer canon;
    private final long preparing;

    private Pending(List<SigningKey> keys, List<String> unsigned, byte[] selected, HeaderCanonicalizer canon,
        long preparing) {
      this.keys = keys;
      this.unsigned = unsigned;
      this.selected = selected;
      this.canon = canon;
      this.preparing = preparing;
    }

    /** The fields with placeholder b= values, one per key in order, each ending in CRLF. */
    public List<String> placeholders() {
      List<String> out = new ArrayList<>(keys.size());
      for (int i = 0; i < keys.size(); i++) {
        out.add(SignatureField.complete(unsigned.get(i), String.valueOf(PLACEHOLDER).repeat(valueLength(keys.get(i)))));
      }
      return out;
    }

    /**
     * The complete fields, each as long as its placeholder field and differing from it only inside
     * the b= value.
     *
     * @throws DkimException as {@link Signer#sign} does
     */
    public List<String> sign() throws DkimException {
      long start = System.nanoTime();
      List<String> out = new ArrayList<>(keys.size());
      for (int i = 0; i < keys.size(); i++) {
        out.add(signOne(keys.get(i), unsigned.get(i), selected, canon));
      }
      if (!keys.isEmpty()) {
        listener.signed(preparing + System.nanoTime() - start);
      }
      return List.copyOf(out);
    }
  }

  /**
   * Fills in the b= value of a field {@link #prepare} laid out, for a message whose signatures never
   * reached the disk (a crash came after its fsync, before the values it was written without were
   * written): the key its d=, s= and a= name (active or retired), the fields its h= selects from
   * {@code headers} (RFC 6376 §5.4.2), its c=. RSASSA-PKCS1-v1_5 and Ed25519 signatures are
   * deterministic, so this is byte for byte the field the message had when it was acknowledged.
   *
   * @param field the field with a placeholder b= value, ending in CRLF
   * @param headers the fields it signs: the message's own, below its DKIM-Signature fields and this
   *     relay's Received field
   * @throws DkimException naming what is missing when the field is not one {@link #prepare} laid out
   *     or its key is not in {@code keys}, or when the signature fails its self-check
   */
  public String complete(String field, List<HeaderField> headers, KeyRing keys) throws DkimException {
    int placeholder = field.indexOf(PLACEHOLDER);
    String unsigned = placeholder < 0 ? "" : field.substring(0, placeholder);
    String prefix = SignatureField.NAME + ":";
    if (!unsigned.startsWith(prefix) || !unsigned.endsWith("b=")) {
      throw new DkimException(451, "4.3.0", "not a DKIM-Signature field with a b= value to fill in");
    }
    Map<String, String> tags = TagList.parse(unsigned.substring(prefix.length(), unsigned.length() - 2));
    for (String tag : List.of("a", "c", "d", "s", "h")) {
      if (!tags.containsKey(tag)) {
        throw new DkimException(451, "4.3.0", "DKIM-Signature field without " + tag + "=");
      }
    }
    SigningKey key = java.util.stream.Stream.concat(keys.all().stream(), keys.retired().stream())
        .filter(k -> k.domain().equalsIgnoreCase(tags.get("d")) && k.selector().equals(tags.get("s"))
            && k.algorithm().tag().equals(tags.get("a")))
        .findFirst()
        .orElseThrow(() -> new DkimException(451, "4.3.5", "no key d=" + tags.get("d") + " s=" + tags.get("s")
            + " a=" + tags.get("a") + " in the keys directory (active or .pem.retired)"));
    HeaderCanonicalizer canon;
    try {
      canon = HeaderCanonicalizer.of(Canonicalization.parse(tags.get("c")).header());
    } catch (IllegalArgumentException e) {
      throw new DkimException(451, "4.3.0", "DKIM-Signature c=: " + e.getMessage());
    }
    ByteArrayOutputStream selected = new ByteArrayOutputStream(2048);
    for (HeaderField f : HeaderSelection.byNames(headers, List.of(tags.get("h").split(":")))) {
      selected.writeBytes(canon.canonicalize(f));
    }
    String done = signOne(key, unsigned, selected.toByteArray(), canon);
    if (done.length() != field.length()) {
      throw new DkimException(451, "4.3.0", "the signature by " + key.describe() + " is " + done.length()
          + " characters where its field left " + field.length());
    }
    return done;
  }

  /** Signs, checks and completes one field; the b= value must have the length {@link #valueLength} says. */
  private String signOne(SigningKey key, String unsigned, byte[] selected, HeaderCanonicalizer canon)
      throws DkimException {
    byte[] data = signedData(selected, unsigned, canon);
    byte[] signature = signer(key).sign(key, data);
    String value = Base64.getEncoder().encodeToString(signature);
    if (!selfCheck.verifies(key, data, signature) || value.length() != valueLength(key)) {
      listener.selfCheckFailed();
      // RFC 3463 §3.8: X.7.5 "cryptographic failure"; temporary, the client keeps the message.
      throw new DkimException(451, "4.7.5", "signature by " + key.describe()
          + " did not verify with its public key; message not sent");
    }
    return SignatureField.complete(unsigned, value);
  }

  /** Characters of the base64 b= value a signature by {@code key} has: its length depends on the key alone. */
  static int valueLength(SigningKey key) {
    int octets = switch (key.algorithm()) {
      case RSA_SHA256 -> (key.bits() + 7) / 8; // RFC 8017 §8.2.1: exactly k octets
      case ED25519_SHA256 -> 64; // RFC 8032 §5.1.6
    };
    return (octets + 2) / 3 * 4;
  }

  /**
   * RFC 6376 §3.7: the selected fields, canonical, then the DKIM-Signature itself with an empty b=,
   * canonical, without its trailing CRLF.
   */
  private static byte[] signedData(byte[] selected, String unsigned, HeaderCanonicalizer canon) {
    byte[] own = canon.canonicalize(new HeaderField(
        SignatureField.NAME, (unsigned + "\r\n").getBytes(StandardCharsets.US_ASCII)));
    ByteArrayOutputStream data = new ByteArrayOutputStream(selected.length + own.length);
    data.writeBytes(selected);
    data.write(own, 0, own.length - 2);
    return data.toByteArray();
  }

  private KeySigner signer(SigningKey key) {
    return switch (key.algorithm()) {
      case RSA_SHA256 -> rsa;
      case ED25519_SHA256 -> ed25519;
    };
  }

  /** For logs: which implementation signs each algorithm, and how relaxed bodies are scanned. */
  public String providers() {
    return "rsa-sha256: " + rsa.provider() + " (self-check: " + selfCheck.describe() + ")"
        + ", ed25519-sha256: " + ed25519.provider() + ", relaxed body scan: " + RelaxedScan.describe(RelaxedScan.best());
  }
}
