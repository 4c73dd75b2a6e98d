package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserCommandTest {
  @TempDir Path dir;

  private static int run(String stdin, String... args) {
    InputStream saved = System.in;
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    try {
      return Main.run(args);
    } finally {
      System.setIn(saved);
    }
  }

  @Test
  void userAddAppendsABcryptLineToAPrivateFile() throws Exception {
    Path users = dir.resolve("users");
    assertEquals(0, run("s3cret\n", "user", "add", "alice", "--domains", "example.com,example.net",
        "--users", users.toString(), "--password-stdin"));
    List<String> lines = Files.readAllLines(users);
    assertEquals(1, lines.size());
    String[] parts = lines.get(0).split(":");
    assertEquals("alice", parts[0]);
    assertEquals("example.com,example.net", parts[2]);
    assertTrue(OpenBSDBCrypt.checkPassword(parts[1], "s3cret".toCharArray()));
    assertFalse(OpenBSDBCrypt.checkPassword(parts[1], "wrong".toCharArray()));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(users)));
    assertEquals(1, run("other\n", "user", "add", "alice", "--domains", "example.com",
        "--users", users.toString(), "--password-stdin"), "a second alice is refused");
    assertEquals(1, Files.readAllLines(users).size());
  }

  private String refusedAdd(String domains) {
    Path users = dir.resolve("users");
    java.io.PrintStream saved = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(1, run("s3cret\n", "user", "add", "alice", "--domains", domains,
          "--users", users.toString(), "--password-stdin"));
    } finally {
      System.setErr(saved);
    }
    assertFalse(Files.exists(users), "nothing written for a refused user");
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void emptyDomainsAreRefusedNamingTheOption() {
    String err = refusedAdd("");
    assertTrue(err.contains("--domains"), err);
    err = refusedAdd("example.com,,example.net");
    assertTrue(err.contains("--domains") && err.contains("empty domain"), err);
  }

  @Test
  void wildcardDomainIsRefusedNotStoredLiterally() {
    String err = refusedAdd("*");
    assertTrue(err.contains("--domains") && err.contains("wildcards are not supported"), err);
    err = refusedAdd("*.example.com");
    assertTrue(err.contains("wildcards"), err);
    err = refusedAdd("bad domain!");
    assertTrue(err.contains("--domains") && err.contains("bad domain!"), err);
  }

  @Test
  void internationalizedDomainIsStoredAsALabels() throws Exception {
    Path users = dir.resolve("users");
    assertEquals(0, run("s3cret\n", "user", "add", "bob", "--domains", "Bücher.example",
        "--users", users.toString(), "--password-stdin"));
    assertEquals("xn--bcher-kva.example", Files.readAllLines(users).get(0).split(":")[2]);
  }
}
