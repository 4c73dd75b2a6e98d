package dev.signet.bench;

import dev.signet.dkim.HeaderField;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;

/** Benchmark inputs: a typical header block, CRLF text bodies of a given size, keys written as keygen would. */
final class Messages {
  private Messages() {}

  static final String DOMAIN = "signet.test";

  /** What a transactional mail carries, as transmitted (each field ends in CRLF; one is folded). */
  static List<HeaderField> headers() {
    return List.of(
        field("From", "From: Signet Bench <sender@" + DOMAIN + ">\r\n"),
        field("To", "To: Recipient <rcpt@sink.test>\r\n"),
        field("Subject", "Subject: Your order 4711 has shipped\r\n"),
        field("Date", "Date: Wed, 25 Nov 2026 18:00:00 +0000\r\n"),
        field("Message-ID", "Message-ID: <20261125180000.4711@" + DOMAIN + ">\r\n"),
        field("MIME-Version", "MIME-Version: 1.0\r\n"),
        field("Content-Type", "Content-Type: text/plain;\r\n\tcharset=utf-8\r\n"),
        field("Content-Transfer-Encoding", "Content-Transfer-Encoding: 8bit\r\n"),
        field("List-Unsubscribe", "List-Unsubscribe: <https://signet.test/u/4711>\r\n"));
  }

  private static HeaderField field(String name, String raw) {
    return new HeaderField(name, raw.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * {@code size} bytes of CRLF-terminated text lines of up to 78 characters, with the runs of spaces and
   * trailing whitespace relaxed canonicalization has to deal with in some lines.
   */
  static byte[] body(int size) {
    return body(size, false);
  }

  /**
   * With {@code plain}: lines with single spaces only, no tabs, no trailing whitespace, no empty lines (the
   * case relaxed canonicalization can pass through unchanged).
   */
  static byte[] body(int size, boolean plain) {
    String[] lines = plain ? PLAIN : MIXED;
    byte[] out = new byte[size];
    int pos = 0;
    for (int i = 0; pos < size; i++) {
      byte[] line = (lines[i % lines.length] + "\r\n").getBytes(StandardCharsets.US_ASCII);
      int n = Math.min(line.length, size - pos);
      System.arraycopy(line, 0, out, pos, n);
      pos += n;
    }
    // End on CRLF so the body is a well-formed sequence of lines.
    out[size - 2] = '\r';
    out[size - 1] = '\n';
    return out;
  }

  private static final String[] PLAIN = {
    "Hello, your order has shipped and should arrive within three working days.",
    "Tracking number: 1Z999AA10123456784",
    "Thank you for shopping with us. If anything is wrong with your order, reply",
    "to this message and we will sort it out as quickly as we can.",
  };

  private static final String[] MIXED = {
      "Hello,  your order has shipped and should arrive within three working days.",
      "Tracking number: 1Z999AA10123456784   ",
      "",
      "Thank you for shopping with us. If anything is wrong with your order, reply",
      "to this message and we will sort it out\tas quickly as we can.",
  };

  /** Writes the body in 8 KiB chunks, as the SMTP DATA pipeline streams it. */
  static void writeChunked(OutputStream to, byte[] body) throws IOException {
    for (int off = 0; off < body.length; off += 8192) {
      to.write(body, off, Math.min(8192, body.length - off));
    }
  }

  /** A fresh keys directory with keys/signet.test/{rsa2048,ed25519}.pem (PKCS#8 PEM, mode 0600). */
  static Path keysDir() throws Exception {
    Path dir = Files.createTempDirectory("signet-bench-keys");
    Path domainDir = Files.createDirectories(dir.resolve(DOMAIN));
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    writePem(domainDir.resolve("rsa2048.pem"), rsa.generateKeyPair());
    writePem(domainDir.resolve("ed25519.pem"), KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
    return dir;
  }

  private static void writePem(Path file, KeyPair pair) throws IOException {
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pair.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
