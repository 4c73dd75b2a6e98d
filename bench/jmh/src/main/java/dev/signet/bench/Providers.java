package dev.signet.bench;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.Provider;
import java.security.Security;

/** The JCA providers the raw benchmarks compare, looked up by the names used in @Param values. */
final class Providers {
  private Providers() {}

  /**
   * "SunRsaSign" and "SunEC" are the JDK's own; "ACCP" is Amazon Corretto Crypto Provider (native, linux-x86_64),
   * "BC" is BouncyCastle. A provider that cannot load fails the benchmark instead of silently measuring another one.
   */
  static Provider byName(String name) {
    return switch (name) {
      case "ACCP" -> {
        AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
        Throwable error = accp.getLoadingError();
        if (error != null) {
          throw new IllegalStateException("ACCP native library did not load", error);
        }
        yield accp;
      }
      case "BC" -> new org.bouncycastle.jce.provider.BouncyCastleProvider();
      default -> {
        Provider p = Security.getProvider(name);
        if (p == null) {
          throw new IllegalStateException("no JCA provider named " + name);
        }
        yield p;
      }
    };
  }
}
