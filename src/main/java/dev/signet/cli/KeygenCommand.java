package dev.signet.cli;

import dev.signet.config.DomainName;
import dev.signet.dkim.DkimException;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyGenerator;
import dev.signet.dkim.SigningKey;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code signet keygen}: writes {@code DIR/D/S.pem} (PKCS#8, mode 0600) and prints the TXT record
 * to publish (docs/ARCHITECTURE.md, "Keys").
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = "Generate a DKIM selector keypair and print its DNS record.")
final class KeygenCommand implements Callable<Integer> {
  enum KeyAlgorithm { rsa, ed25519 }

  @Spec CommandSpec spec;
  @Mixin ConfigOption config;

  @Option(names = "--domain", required = true, paramLabel = "D", description = "Signing domain (d=), e.g. example.com; an internationalized name may be given"
          + " as U-labels (bücher.example) or A-labels (xn--bcher-kva.example).")
  String domain;

  @Option(names = "--selector", required = true, paramLabel = "S", description = "Selector (s=), e.g. rsa2026.")
  String selector;

  @Option(names = "--algorithm", paramLabel = "rsa|ed25519", defaultValue = "rsa",
      description = "Key type: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
  KeyAlgorithm algorithm;

  @Option(names = "--bits", paramLabel = "N", description = "RSA key length, 1024 to 4096. Default: 2048.")
  Integer bits;

  @Option(names = "--keys", paramLabel = "DIR", description = "Keys directory. Default: dkim.keys of the config, which defaults to keys.")
  Path keys;

  @Option(names = "--force", description = "Replace an existing key file.")
  boolean force;

  @Override
  public Integer call() {
    SigningKey.Algorithm alg = algorithm == KeyAlgorithm.ed25519
        ? SigningKey.Algorithm.ED25519_SHA256
        : SigningKey.Algorithm.RSA_SHA256;
    if (bits != null && alg == SigningKey.Algorithm.ED25519_SHA256) {
      throw new CommandFailure("--bits applies to RSA keys only; Ed25519 keys have a fixed size");
    }
    Path dir = keys != null ? keys : config.load().dkim().keys();
    // RFC 6376 §3.5: d= holds A-labels. bücher.example and xn--bcher-kva.example name the same keys.
    String ascii;
    try {
      ascii = DomainName.ascii(domain);
    } catch (IllegalArgumentException e) {
      throw new CommandFailure("--domain: " + e.getMessage());
    }
    SigningKey key;
    try {
      key = KeyGenerator.generate(dir, ascii, selector, alg, bits == null ? KeyGenerator.DEFAULT_RSA_BITS : bits, force);
    } catch (DkimException e) {
      throw new CommandFailure(e.getMessage());
    }
    spec.commandLine().getErr().println("signet keygen: wrote " + key.file() + "; publish this record:");
    spec.commandLine().getOut().println(DnsRecord.of(key).zoneLine());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
