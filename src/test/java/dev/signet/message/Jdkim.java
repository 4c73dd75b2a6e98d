package dev.signet.message;

import dev.signet.dkim.SigningKey;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import java.util.List;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.apache.james.jdkim.exceptions.FailException;

/** Apache jDKIM as an independent verifier (RSA only), with the key record served from memory, not DNS. */
final class Jdkim {
  private Jdkim() {}

  /** The RFC 6376 §3.6.1 key record jDKIM would find at selector._domainkey.domain. */
  static String record(SigningKey key) {
    return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(key.publicKey().getEncoded());
  }

  /** The signatures jDKIM accepts; empty when it accepts none (it throws for a failing signature). */
  static List<SignatureRecord> verify(byte[] message, SigningKey key) throws Exception {
    DKIMVerifier verifier = new DKIMVerifier((method, selector, token) -> {
      if (selector.toString().equals(key.selector()) && token.toString().equals(key.domain())) {
        return List.of(record(key));
      }
      return List.of();
    });
    try {
      List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(message));
      return valid == null ? List.of() : valid;
    } catch (FailException e) {
      return List.of();
    }
  }
}
