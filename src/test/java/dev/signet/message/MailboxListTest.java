package dev.signet.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** From and Sender parse as RFC 5322 §3.4 mailbox-list, or not at all. */
class MailboxListTest {

  private static List<String> domains(String value) throws MailboxList.Invalid {
    return MailboxList.parse(value).stream().map(MailboxList.Mailbox::domain).toList();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "alice@example.com | example.com",
      "Alice <alice@example.com> | example.com",
      "Alice Example <alice@Example.COM> | example.com",
      "\"Doe, John\" <john@example.com> | example.com",
      "\"a@b.example\" <real@example.com> | example.com",
      "\"john@doe\"@example.com | example.com",
      "(comment) alice@example.com (another) | example.com",
      "alice@example.com (Alice @ Other <x@other.example>) | example.com",
      "Alice (work (nested) account) <alice@mail.example.com> | mail.example.com",
      "John Q. Public <jqp@example.com> | example.com",
      "<@relay.example:alice@example.com> | example.com",
      "alice @ example . com | example.com",
      "=?UTF-8?B?w4lsb2RpZQ==?= <elodie@example.com> | example.com",
      "Jürgen <jürgen@Bücher.example> | bücher.example",
      "user@[192.0.2.1] | [192.0.2.1]",
      "\"quoted \\\" <fake@evil.example>\" <alice@example.com> | example.com",
  })
  void oneMailbox(String from, String domain) throws Exception {
    assertEquals(List.of(domain), domains(from));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "alice@example.com, bob@other.example",
      "Alice <alice@example.com>, \"Bob, B.\" <bob@other.example>",
      "alice@example.com,, bob@other.example,", // RFC 5322 §4.4 obs-mbox-list
  })
  void everyMailboxOfAList(String from) throws Exception {
    assertEquals(List.of("example.com", "other.example"), domains(from));
  }

  /** The spoofing forms from the security probe, and values without a usable mailbox. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "x: app@example.com, ceo@victim.test;",
      "Team: Alice <alice@example.com>;",
      "undisclosed-recipients:;",
      "<app@example.com> <ceo@victim.test>",
      "<app@example.com> ceo@victim.test",
      "ceo\\@victim.test@example.com",
      "app@example.com ceo@victim.test",
      "app@example.com@victim.test",
      "", "alice", "Alice <alice>", "@example.com", "alice@", "alice@example..com", "Alice <alice@example.com",
      "alice@exa mple,com@", "(unbalanced alice@example.com", "\"unterminated@example.com", "alice@exa<mple.com",
      "<>", "Alice <>",
  })
  void refusesWhatIsNotAMailboxList(String from) {
    assertThrows(MailboxList.Invalid.class, () -> MailboxList.parse(from));
  }
}
