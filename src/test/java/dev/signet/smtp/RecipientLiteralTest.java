package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recipients at address literals: refused by default, strictly parsed when allowed. */
class RecipientLiteralTest {
  @TempDir Path dir;

  private static final String REFUSED = "550 5.1.2 Recipients at address literals are not accepted"
      + " (delivery.address-literals: reject)";
  private static final String BAD = "553 5.1.3 Bad recipient address syntax";

  @Test
  void literalsAreRefusedByDefault() throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
      assertEquals(REFUSED, c.command("RCPT TO:<x@[192.0.2.1]>"));
      assertEquals(REFUSED, c.command("RCPT TO:<x@[IPv6:2001:db8::1]>"));
      assertEquals(BAD, c.command("RCPT TO:<x@[IPv6:dead.beef]>"));
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<x@example.org>"));
    }
  }

  @Test
  void whenAllowedOnlyRfc5321LiteralsPass() throws Exception {
    try (TestRelay relay = TestRelay.start(dir, "delivery.address-literals: allow");
         SmtpClient c = new SmtpClient(relay.port())) {
      c.hello();
      assertEquals("250 2.1.0 Ok", c.command("MAIL FROM:<app@example.com>"));
      for (String bad : new String[] {"[IPv6:dead.beef]", "[127.1]", "[2130706433]", "[0]", "[IPv6:1::2::3]"}) {
        assertEquals(BAD, c.command("RCPT TO:<x@" + bad + ">"), bad);
      }
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<x@[192.0.2.1]>"));
      assertEquals("250 2.1.5 Ok", c.command("RCPT TO:<x@[IPv6:2001:db8::1]>"));
    }
  }
}
