package dev.signet.delivery;

import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.internet.InternetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * One outbound mail transaction (RFC 5321 §3.3: MAIL, RCPT per recipient, DATA) on an open connection
 * to a recipient's server, with an outcome per recipient. (The submission side's transaction, the
 * one a client opens with us, is {@code smtp.MailTransaction}.)
 */
final class OutboundTransaction {

  /**
   * @param tryElsewhere nothing was decided here and the message was not handed over: the next host may
   *     take it (connection lost before the end of the data)
   * @param reusable the session is still in a clean state for another transaction
   * @param lacking the extension this host lacks and the message needs (8BITMIME, SMTPUTF8), when
   *     that is why nothing was sent: another host of the destination may offer it
   */
  record Attempt(List<RecipientOutcome> outcomes, boolean tryElsewhere, boolean reusable, Optional<String> lacking) {
    Attempt(List<RecipientOutcome> outcomes, boolean tryElsewhere, boolean reusable) {
      this(outcomes, tryElsewhere, reusable, Optional.empty());
    }

    /** Nothing sent: this host lacks {@code extension}; the next host is tried, then the caller decides. */
    static Attempt lacking(DeliveryRequest request, String extension, Reply reply) {
      return new Attempt(Outcomes.failAll(request, reply), true, true, Optional.of(extension));
    }
  }

  private OutboundTransaction() {}

  static boolean needsSmtpUtf8(DeliveryRequest request, MessageFile file) {
    // RFC 6531 §3.4: non-ASCII in an envelope address or (RFC 6532) in a header field.
    return file.utf8Headers() || !ascii(request.mailFrom())
        || !request.recipients().stream().allMatch(OutboundTransaction::ascii);
  }

  static Attempt run(SmtpConnection connection, DeliveryRequest request, MessageFile file) {
    String host = connection.route.name();
    List<String> parameters = new ArrayList<>();

    // A missing extension is this host's shortcoming, not the message's: MX hosts of one domain
    // often differ, so the sender tries the next one and decides only when all lack it.
    if (needsSmtpUtf8(request, file) && !connection.supports("SMTPUTF8")) {
      // RFC 6531 §3.4: such a message needs a server offering SMTPUTF8. It cannot be downgraded
      // (addresses and header fields would have to be rewritten).
      String status = file.utf8Headers() ? "5.6.9" : "5.6.7";
      return Attempt.lacking(request, "SMTPUTF8", Reply.about(host, 553, status, "message needs SMTPUTF8 (non-ASCII "
          + (file.utf8Headers() ? "header fields" : "addresses") + ") and " + host + " does not offer it"));
    }
    if (file.eightBit()) {
      if (!connection.supports("8BITMIME")) {
        // RFC 6152 §3: 8-bit content goes only to a server offering 8BITMIME; SmtpSender converts
        // it to 7 bits (and signs it again) when no host of the destination offers it.
        return Attempt.lacking(request, "8BITMIME", Reply.about(host, 554, "5.6.3", "message has 8-bit content and "
            + host + " does not offer 8BITMIME"));
      }
      parameters.add("BODY=8BITMIME"); // RFC 6152 §3
    }
    if (connection.supports("SIZE")) {
      long limit = parseLong(connection.extensionParameter("SIZE"));
      if (limit > 0 && file.size() > limit) {
        // RFC 1870: the server would refuse a message over its fixed maximum with 552; fail now.
        return refuse(request, Reply.about(host, 552, "5.3.4",
            "message of " + file.size() + " octets exceeds the " + limit + " octets " + host + " accepts"));
      }
      parameters.add("SIZE=" + file.size()); // RFC 1870 §3
    }
    // SMTPUTF8 itself is added by the transport when mail.mime.allowutf8 is set for the session.

    boolean[] bodySent = {false};
    RawMessage message = new RawMessage(connection.session(), file, () -> {
      bodySent[0] = true;
      connection.readTimeout(connection.settings().dataEnd());
    });
    message.setEnvelopeFrom(request.nullSender() ? "<>" : request.mailFrom());
    message.setMailExtension(parameters.isEmpty() ? null : String.join(" ", parameters));
    message.setSendPartial(true);
    message.setAllow8bitMIME(false);
    Address[] recipients = new Address[request.recipients().size()];
    for (int i = 0; i < recipients.length; i++) {
      InternetAddress a = new InternetAddress();
      a.setAddress(request.recipients().get(i)); // no parsing: the address is used as given
      recipients[i] = a;
    }

    connection.readTimeout(connection.settings().command());
    try {
      connection.transport().sendMessage(message, recipients);
      // A plain return means every recipient was accepted and the message too.
      Reply ok = Reply.remote(connection.transport().getLastReturnCode(),
          connection.transport().getLastServerResponse(), host);
      return new Attempt(all(request, ok), false, true);
    } catch (SMTPSendFailedException e) {
      return fromChain(request, host, e, e.getCommand(), e.getReturnCode(), e.getMessage());
    } catch (SendFailedException e) {
      return fromChain(request, host, e, "RCPT", 0, e.getMessage());
    } catch (MessagingException e) {
      if (SmtpConnection.has(e, RawMessage.LocalReadException.class)) {
        return new Attempt(Outcomes.deferAll(request, Reply.local(451, "4.3.0", SmtpConnection.cause(e))), false, false);
      }
      Reply lost = Reply.about(host, 421, "4.4.2",
          "connection with " + connection.route + " lost" + (bodySent[0] ? " after the data" : "") + ": "
              + SmtpConnection.cause(e));
      // After the data the server may have taken the message (RFC 5321 §6.1 warns of duplicates):
      // retry later rather than hand it to another host at once.
      return new Attempt(Outcomes.deferAll(request, lost), !bodySent[0], false);
    }
  }

  /**
   * Reads the per-recipient replies under the transport's exception: the RCPT failures chained to it
   * (each with its reply), the others it names as valid (sent, or unsent because DATA or the final
   * "." was refused), then the reply to MAIL, DATA or the final "." that decides the valid ones.
   */
  private static Attempt fromChain(DeliveryRequest request, String host, SendFailedException top,
      String command, int code, String response) {
    Map<String, Reply> rcpt = new HashMap<>();
    Map<String, Boolean> accepted = new HashMap<>();
    for (Address[] valid : new Address[][] {top.getValidSentAddresses(), top.getValidUnsentAddresses()}) {
      for (Address a : valid == null ? new Address[0] : valid) {
        accepted.put(((InternetAddress) a).getAddress(), true); // a refused RCPT's own reply comes first below
      }
    }
    for (Exception e = top.getNextException(); e instanceof MessagingException m; e = m.getNextException()) {
      if (m instanceof SMTPAddressFailedException f) {
        rcpt.put(f.getAddress().getAddress(), Reply.remote(f.getReturnCode(), f.getMessage(), host));
      }
    }
    Reply decisive = code == 0 ? null : Reply.remote(code, response, host);
    boolean mailRefused = command != null && command.startsWith("MAIL");
    List<RecipientOutcome> outcomes = new ArrayList<>();
    for (String r : request.recipients()) {
      if (mailRefused) {
        outcomes.add(classify(r, decisive));
      } else if (rcpt.containsKey(r)) {
        outcomes.add(classify(r, rcpt.get(r)));
      } else if (accepted.containsKey(r) && decisive != null) {
        outcomes.add(classify(r, decisive)); // the reply to DATA or to the final "."
      } else {
        outcomes.add(new RecipientOutcome.Deferred(r, Reply.about(host, 451, "4.4.0",
            "no reply from " + host + " about this recipient: " + SmtpConnection.flat(response))));
      }
    }
    boolean reusable = code != 421 && !rcpt.values().stream().anyMatch(x -> x.code() == 421);
    return new Attempt(outcomes, false, reusable);
  }

  private static RecipientOutcome classify(String recipient, Reply reply) {
    if (reply.code() >= 200 && reply.code() < 300) {
      return new RecipientOutcome.Delivered(recipient, reply);
    }
    if (reply.permanentFailure()) {
      return new RecipientOutcome.Failed(recipient, reply);
    }
    return new RecipientOutcome.Deferred(recipient, reply);
  }

  private static Attempt refuse(DeliveryRequest request, Reply reply) {
    return new Attempt(Outcomes.failAll(request, reply), false, true);
  }

  private static List<RecipientOutcome> all(DeliveryRequest request, Reply reply) {
    return request.recipients().stream().map(r -> classify(r, reply)).toList();
  }

  private static boolean ascii(String s) {
    return StandardCharsets.US_ASCII.newEncoder().canEncode(s);
  }

  private static long parseLong(String s) {
    try {
      return s == null || s.isBlank() ? 0 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
