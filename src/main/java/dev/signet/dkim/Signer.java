package dev.signet.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

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
    List<String> out = new ArrayList<>(keys.size());
    for (SigningKey key : keys) {
      String unsigned = SignatureField.unsigned(
          key, options.canonicalization().toString(), t, x, selection.names(), bh);
      byte[] data = signedData(signed, unsigned);
      byte[] signature = signer(key).sign(key, data);
      if (!selfCheck.verifies(key, data, signature)) {
        listener.selfCheckFailed();
        // RFC 3463 §3.8: X.7.5 "cryptographic failure"; temporary, the client keeps the message.
        throw new DkimException(451, "4.7.5", "signature by " + key.describe()
            + " did not verify with its public key; message not sent");
      }
      out.add(SignatureField.complete(unsigned, Base64.getEncoder().encodeToString(signature)));
    }
    if (!keys.isEmpty()) {
      listener.signed(System.nanoTime() - start);
    }
    return List.copyOf(out);
  }

  /**
   * RFC 6376 §3.7: the selected fields, canonical, then the DKIM-Signature itself with an empty b=,
   * canonical, without its trailing CRLF.
   */
  private byte[] signedData(ByteArrayOutputStream selected, String unsigned) {
    byte[] own = headerCanon.canonicalize(new HeaderField(
        SignatureField.NAME, (unsigned + "\r\n").getBytes(StandardCharsets.US_ASCII)));
    ByteArrayOutputStream data = new ByteArrayOutputStream(selected.size() + own.length);
    data.writeBytes(selected.toByteArray());
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
