package dev.signet.dkim;

import dev.signet.config.SignetConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Test fixtures: the committed keys (copied to a directory with mode 0600), settings, messages. */
final class Fixtures {
  private Fixtures() {}

  static byte[] resource(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies src/test/resources/keys/{name} to dir/{target} with mode 0600 (git keeps no modes). */
  static Path installKey(Path dir, String name, String target) throws IOException {
    Path file = dir.resolve(target);
    Files.createDirectories(file.getParent());
    Files.write(file, resource("keys/" + name));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  /** example.com with selectors rsa2048 and ed25519. */
  static KeyRing exampleKeys(Path dir) throws Exception {
    installKey(dir, "example.com/rsa2048.pem", "example.com/rsa2048.pem");
    installKey(dir, "example.com/ed25519.pem", "example.com/ed25519.pem");
    return KeyRing.load(dir);
  }

  static SigningKey key(KeyRing ring, String selector) {
    return ring.all().stream().filter(k -> k.selector().equals(selector)).findFirst().orElseThrow();
  }

  static SignerOptions settings(String canonicalization) {
    return settings(canonicalization, Optional.empty());
  }

  /** The relay's default signing options with another c= and x=. */
  static SignerOptions settings(String canonicalization, Optional<Duration> expire) {
    SignerOptions d = SignetConfig.defaults().dkim().signer();
    return new SignerOptions(Canonicalization.parse(canonicalization), d.headers(), d.oversign(), expire);
  }

  static SignerOptions settings(String canonicalization, List<String> headers, List<String> oversign) {
    return new SignerOptions(Canonicalization.parse(canonicalization), headers, oversign, Optional.empty());
  }

  /** A message split into header fields (folding kept) and body; line ends must be CRLF. */
  record Message(List<HeaderField> headers, byte[] body) {
    static Message parse(byte[] message) {
      String text = new String(message, StandardCharsets.ISO_8859_1);
      int end = text.startsWith("\r\n") ? 0 : text.indexOf("\r\n\r\n");
      String head;
      byte[] body;
      if (end < 0) { // a header block without the empty line: no body
        head = text.endsWith("\r\n") ? text : text + "\r\n";
        body = new byte[0];
      } else {
        head = end == 0 ? "" : text.substring(0, end + 2);
        body = text.substring(end == 0 ? 2 : end + 4).getBytes(StandardCharsets.ISO_8859_1);
      }
      List<HeaderField> fields = new ArrayList<>();
      StringBuilder field = null;
      for (String line : head.split("(?<=\r\n)")) {
        if (line.isEmpty()) {
          continue;
        }
        if ((line.startsWith(" ") || line.startsWith("\t")) && field != null) {
          field.append(line);
        } else {
          if (field != null) {
            fields.add(field(field.toString()));
          }
          field = new StringBuilder(line);
        }
      }
      if (field != null) {
        fields.add(field(field.toString()));
      }
      return new Message(fields, body);
    }

    private static HeaderField field(String text) {
      return new HeaderField(text.substring(0, text.indexOf(':')).strip(), text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The signed message: the fields on top, then this message. */
    byte[] with(List<String> prepend) {
      var out = new java.io.ByteArrayOutputStream();
      for (String f : prepend) {
        out.writeBytes(f.getBytes(StandardCharsets.US_ASCII));
      }
      for (HeaderField f : headers) {
        out.writeBytes(f.raw());
      }
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      out.writeBytes(body);
      return out.toByteArray();
    }
  }

  static byte[] crlf(String text) {
    return text.replace("\r\n", "\n").replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
  }
}
