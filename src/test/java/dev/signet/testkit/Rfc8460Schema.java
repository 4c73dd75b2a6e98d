package dev.signet.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Validates a TLS report against the RFC 8460 §4 JSON schema ({@code tlsrpt/rfc8460-report.schema.json})
 * with Python's {@code jsonschema} (python3-jsonschema), a validator nobody here wrote, formats
 * (date-time, ipv4/ipv6, uri) checked where it has checkers for them.
 */
public final class Rfc8460Schema {
  private static final String SCRIPT = """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1], encoding="utf-8"))
      report = json.load(open(sys.argv[2], encoding="utf-8"))
      v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
      errors = sorted(v.iter_errors(report), key=lambda e: list(e.path))
      for e in errors:
          print("/".join(str(p) for p in e.path) + ": " + e.message)
      print("valid" if not errors else "invalid")
      """;

  private Rfc8460Schema() {}

  /** What the validator printed: "valid", or one line per error then "invalid". */
  public static String validate(String json, Path work) throws IOException, InterruptedException {
    Path schema = work.resolve("rfc8460-report.schema.json");
    try (InputStream in = Rfc8460Schema.class.getResourceAsStream("/tlsrpt/rfc8460-report.schema.json")) {
      Files.write(schema, in.readAllBytes());
    }
    Path report = Files.writeString(work.resolve("tlsrpt-report.json"), json, StandardCharsets.UTF_8);
    Path script = Files.writeString(work.resolve("tlsrpt-validate.py"), SCRIPT);
    Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), schema.toString(), report.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("jsonschema did not finish");
    }
    return out;
  }
}
