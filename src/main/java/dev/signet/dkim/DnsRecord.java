package dev.signet.dkim;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.StringJoiner;

/**
 * The DNS TXT record that publishes a selector's public key (RFC 6376 §3.6.1):
 * {@code <selector>._domainkey.<domain>.} with {@code v=DKIM1; k=...; p=...}.
 *
 * @param name the owner name, fully qualified with its final dot
 * @param strings the TXT value as character-strings of at most 255 octets each (RFC 1035 §3.3.14;
 *     RFC 6376 §3.6.2.2: a verifier joins them without spaces)
 */
public record DnsRecord(String name, List<String> strings) {
  static final int MAX_STRING = 255;

  public DnsRecord {
    strings = List.copyOf(strings);
  }

  public static DnsRecord of(SigningKey key) {
    return of(key.domain(), key.selector(), key.algorithm(), key.publicKey());
  }

  public static DnsRecord of(String domain, String selector, SigningKey.Algorithm algorithm, PublicKey publicKey) {
    List<String> strings = new ArrayList<>();
    strings.add("v=DKIM1; k=" + algorithm.keyType() + "; ");
    String p = "p=" + publicKeyBase64(algorithm, publicKey);
    for (int i = 0; i < p.length(); i += MAX_STRING) {
      strings.add(p.substring(i, Math.min(p.length(), i + MAX_STRING)));
    }
    return new DnsRecord(selector + "._domainkey." + domain + ".", strings);
  }

  /**
   * The p= value. RSA: base64 of the DER SubjectPublicKeyInfo (RFC 6376 §3.6.1). Ed25519: base64
   * of the raw 32-byte public key, not its SubjectPublicKeyInfo (RFC 8463 §4).
   */
  public static String publicKeyBase64(SigningKey.Algorithm algorithm, PublicKey publicKey) {
    byte[] bytes = switch (algorithm) {
      case RSA_SHA256 -> publicKey.getEncoded();
      case ED25519_SHA256 -> PemKeys.rawEd25519(publicKey);
    };
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** The TXT value as a verifier sees it: the strings joined. */
  public String value() {
    return String.join("", strings);
  }

  /** A zone-file line: {@code S._domainkey.D. IN TXT ( "v=DKIM1; k=rsa; " "p=MIIB..." )}. */
  public String zoneLine() {
    StringJoiner line = new StringJoiner(" ", name + " IN TXT ( ", " )");
    for (String s : strings) {
      line.add('"' + s + '"'); // base64 and tag text hold no '"' or '\' to escape
    }
    return line.toString();
  }
}
