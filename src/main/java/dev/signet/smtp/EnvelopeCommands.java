package dev.signet.smtp;

import dev.signet.delivery.AddressLiteral;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * EHLO, MAIL and RCPT, replacing SubEthaSMTP's: it advertises AUTH per server rather than per
 * session, ignores SIZE= when another parameter follows it, accepts unknown MAIL parameters, and
 * replies without enhanced status codes (RFC 3463), all of which Signet needs otherwise.
 */
final class EnvelopeCommands {
  private EnvelopeCommands() {}

  static final class Ehlo extends BaseCommand {
    private final String hostname;
    private final long maxSize;
    private final ClientPolicy policy;

    Ehlo(String hostname, long maxSize, ClientPolicy policy) {
      super("EHLO", "Introduce yourself.", "<hostname>");
      this.hostname = hostname;
      this.maxSize = maxSize;
      this.policy = policy;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      String[] args = getArgs(command);
      if (args.length != 2) {
        sess.sendResponse("501 5.5.4 Syntax: EHLO hostname");
        return;
      }
      sess.resetMailTransaction(); // RFC 5321 §4.1.4: EHLO clears the transaction
      sess.setHelo(args[1]);
      List<String> lines = new ArrayList<>();
      lines.add(hostname);
      lines.add("PIPELINING"); // RFC 2920
      lines.add("SIZE " + maxSize); // RFC 1870
      lines.add("8BITMIME"); // RFC 6152
      lines.add("SMTPUTF8"); // RFC 6531
      lines.add("CHUNKING"); // RFC 3030
      if (policy.tlsAvailable() && !sess.isTLSStarted()) {
        lines.add("STARTTLS"); // RFC 3207
      }
      if (policy.authOffered(sess)) {
        lines.add("AUTH PLAIN LOGIN"); // RFC 4954
      }
      // Not ENHANCEDSTATUSCODES (RFC 2034): some replies still come from SubEthaSMTP without them.
      StringBuilder reply = new StringBuilder();
      for (int i = 0; i < lines.size(); i++) {
        reply.append(i == lines.size() - 1 ? "250 " : "250-").append(lines.get(i));
        if (i < lines.size() - 1) {
          reply.append("\r\n");
        }
      }
      sess.sendResponse(reply.toString());
    }
  }

  static final class Mail extends BaseCommand {
    private final long maxSize;
    private final ClientPolicy policy;

    Mail(long maxSize, ClientPolicy policy) {
      super("MAIL", "Specifies the sender.", "FROM:<sender> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]");
      this.maxSize = maxSize;
      this.policy = policy;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      if (sess.getHelo().isEmpty()) {
        sess.sendResponse("503 5.5.1 Send EHLO first");
        return;
      }
      if (sess.isMailTransactionInProgress()) {
        sess.sendResponse("503 5.5.1 Sender already specified");
        return;
      }
      try {
        MailPath path = MailPath.parse(command, "FROM:");
        boolean utf8 = parameters(path.parameters());
        if (!path.isNull() && !MailPath.validMailbox(path.address(), true)) {
          throw new RejectException(553, "5.1.7 Bad sender address syntax");
        }
        if (!utf8 && !path.ascii()) {
          // RFC 6531 §3.4: non-ASCII addresses need the SMTPUTF8 parameter.
          throw new RejectException(553, "5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        }
        Optional<String> refusal = policy.relayRefusal(sess);
        if (refusal.isEmpty() && !path.isNull()) {
          refusal = ClientPolicy.domainRefusal(sess, path.domain(), "Sender");
        }
        if (refusal.isPresent()) {
          sess.sendResponse(refusal.get());
          return;
        }
        sess.startMailTransaction();
        ((MailTransaction) sess.getMessageHandler()).mail(path.address(), utf8);
        sess.sendResponse("250 2.1.0 Ok");
      } catch (RejectException e) {
        sess.sendResponse(e.getErrorResponse());
      }
    }

    /** Checks the MAIL parameters; returns whether SMTPUTF8 was given. */
    private boolean parameters(Map<String, String> parameters) throws RejectException {
      boolean utf8 = false;
      for (Map.Entry<String, String> p : parameters.entrySet()) {
        String value = p.getValue();
        switch (p.getKey()) {
          case "SIZE" -> { // RFC 1870 §6
            if (value == null || !value.matches("[0-9]{1,20}")) {
              throw new RejectException(501, "5.5.4 SIZE needs a number");
            }
            if (value.length() > 18 || Long.parseLong(value) > maxSize) {
              throw new RejectException(552, "5.3.4 Message size exceeds fixed limit of " + maxSize + " bytes");
            }
          }
          case "BODY" -> { // RFC 6152 §2
            String body = value == null ? "" : value.toUpperCase(Locale.ROOT);
            if (!body.equals("7BIT") && !body.equals("8BITMIME")) {
              throw new RejectException(555, "5.5.4 BODY must be 7BIT or 8BITMIME");
            }
          }
          case "SMTPUTF8" -> { // RFC 6531 §3.4
            if (value != null) {
              throw new RejectException(555, "5.5.4 SMTPUTF8 takes no value");
            }
            utf8 = true;
          }
          case "AUTH" -> {
            // RFC 4954 §5: the AUTH= identity of a relaying client is not trusted; accepted and ignored.
          }
          default -> throw new RejectException(555, "5.5.4 Unsupported MAIL parameter " + p.getKey());
        }
      }
      return utf8;
    }
  }

  static final class Rcpt extends BaseCommand {
    private final int maxRecipients;
    private final boolean literals;
    private final SuppressionGate suppression;

    /**
     * @param literals accept recipients at address literals ({@code delivery.address-literals: allow})
     * @param suppression refuses suppressed recipients
     */
    Rcpt(int maxRecipients, boolean literals, SuppressionGate suppression) {
      super("RCPT", "Specifies a recipient.", "TO:<recipient>");
      this.maxRecipients = maxRecipients;
      this.literals = literals;
      this.suppression = suppression;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      if (!sess.isMailTransactionInProgress()) {
        sess.sendResponse("503 5.5.1 Need MAIL before RCPT");
        return;
      }
      MailTransaction transaction = (MailTransaction) sess.getMessageHandler();
      try {
        MailPath path = MailPath.parse(command, "TO:");
        if (!path.parameters().isEmpty()) {
          throw new RejectException(555, "5.5.4 Unsupported RCPT parameter "
              + path.parameters().keySet().iterator().next());
        }
        if (path.isNull() || !MailPath.validMailbox(path.address(), true)) {
          throw new RejectException(553, "5.1.3 Bad recipient address syntax");
        }
        if (!transaction.smtputf8() && !path.ascii()) {
          throw new RejectException(553, "5.6.7 Non-ASCII address needs the SMTPUTF8 parameter on MAIL");
        }
        if (!literals && AddressLiteral.is(path.domain())) {
          // Applications send to domains; a literal skips DNS, MTA-STS and DANE. RFC 3463 X.1.2: bad destination system.
          throw new RejectException(550, "5.1.2 Recipients at address literals are not accepted"
              + " (delivery.address-literals: reject)");
        }
        if (sess.getRecipientCount() >= maxRecipients) {
          // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the rest later.
          throw new RejectException(452, "4.5.3 Too many recipients (limit " + maxRecipients + ")");
        }
        Optional<String> suppressed = suppression.refusal(transaction.sender(), path.address());
        if (suppressed.isPresent()) {
          sess.sendResponse(suppressed.get()); // a suppressed address: no MX is ever asked
          return;
        }
        transaction.recipient(path.address());
        sess.addRecipient(path.address());
        sess.sendResponse("250 2.1.5 Ok");
      } catch (RejectException e) {
        sess.sendResponse(e.getErrorResponse());
      }
    }
  }
}
