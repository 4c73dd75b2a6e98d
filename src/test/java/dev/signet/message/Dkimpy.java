package dev.signet.message;

import dev.signet.dkim.DkimException;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * dkimpy (python3-dkim), a verifier nobody here wrote, run on a message: one result per
 * DKIM-Signature field, {@code true} when it verifies against the key records of {@code keysDir}
 * (served to dkimpy by a DNS function instead of a resolver).
 */
public final class Dkimpy {
  private static final String SCRIPT = """
      import sys, dkim
      records = {}
      for line in open(sys.argv[2], encoding="ascii"):
          name, value = line.rstrip("\\n").split(" ", 1)
          records[name.encode()] = value.encode()
      msg = open(sys.argv[1], "rb").read()
      d = dkim.DKIM(msg)
      try:
          count = len([1 for (n, v) in d.headers if n.lower() == b"dkim-signature"])
      except Exception as e:
          print("parse-error", e); sys.exit(0)
      for i in range(count):
          try:
              ok = d.verify(idx=i, dnsfunc=lambda name, timeout=5: records.get(name.rstrip(b".") + b".", records.get(name)))
          except Exception as e:
              print("error", e); continue
          print("ok" if ok else "fail")
      """;

  private Dkimpy() {}

  /** Lines as dkimpy printed them: "ok" or "fail" per signature, or an error line. */
  public static List<String> verify(byte[] message, Path keysDir, Path work) throws IOException, InterruptedException {
    Path records = work.resolve("dkimpy-records.txt");
    StringBuilder text = new StringBuilder();
    try {
      for (SigningKey key : KeyRing.load(keysDir).all()) {
        DnsRecord r = DnsRecord.of(key);
        text.append(r.name().endsWith(".") ? r.name() : r.name() + ".").append(' ')
            .append(String.join("", r.strings())).append('\n');
      }
    } catch (DkimException e) {
      throw new IOException(e);
    }
    Files.writeString(records, text, StandardCharsets.US_ASCII);
    Path msg = Files.write(work.resolve("dkimpy-message.eml"), message);
    Path script = Files.writeString(work.resolve("dkimpy-verify.py"), SCRIPT);
    Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), msg.toString(), records.toString())
        .redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("dkimpy did not finish");
    }
    List<String> lines = new ArrayList<>(new String(out, StandardCharsets.UTF_8).lines().toList());
    return lines;
  }
}
