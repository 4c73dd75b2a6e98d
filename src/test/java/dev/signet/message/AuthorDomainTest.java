package dev.signet.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The author domain is the domain of the first mailbox in From (RFC 5322 §3.4, §3.6.2). */
class AuthorDomainTest {

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
      "alice@example.com, bob@other.example | example.com",
      "Team: alice@example.com, bob@other.example; | example.com",
      "Team: Alice <alice@example.com>; | example.com",
      "empty:;, bob@example.org | example.org",
      "<@relay.example:alice@example.com> | example.com",
      "alice @ example . com | example.com",
      "=?UTF-8?B?w4lsb2RpZQ==?= <elodie@example.com> | example.com",
      "Jürgen <jürgen@Bücher.example> | bücher.example",
      "user@[192.0.2.1] | [192.0.2.1]",
      "\"quoted \\\" <fake@evil.example>\" <alice@example.com> | example.com",
  })
  void findsTheDomainOfTheFirstMailbox(String from, String domain) {
    assertEquals(Optional.of(domain), AuthorDomain.of(from));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "alice", "Alice <alice>", "@example.com", "alice@", "alice@example..com", "Alice <alice@example.com",
      "undisclosed-recipients:;", "alice@exa mple,com@", "(unbalanced alice@example.com", "\"unterminated@example.com",
      "alice@exa<mple.com",
  })
  void refusesValuesWithoutAUsableDomain(String from) {
    assertEquals(Optional.empty(), AuthorDomain.of(from));
  }
}
