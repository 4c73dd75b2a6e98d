package dev.signet.delivery;

import jakarta.mail.MessagingException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One outbound mail transaction (RFC 5321 §3.3: MAIL, RCPT per recipient, DATA) on an open connection
 * to a recipient's server, with an outcome per recipient. (The submission side's transaction, the
 * one a client opens with us, is {@code smtp.MailTransaction}.)
 *
 * <p>Angus set the session up (greeting, EHLO, STARTTLS, AUTH); the transaction's commands and the
 * message go to the socket from here, so that MAIL, the RCPTs and DATA go out in one write where the
 * host offers PIPELINING (RFC 2920), and the signed bytes go out as they are in the spool, through
 * {@link DataStuffing} only. Angus still reads the replies.
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

  /** Thrown when the message file cannot be read: a local problem, not the server's. */
  static final class LocalReadException extends IOException {
    LocalReadException(IOException cause) {
      super("cannot read message file: " + cause.getMessage(), cause);
    }
  }

  private static final byte[] CRLF = {'\r', '\n'};

  private final SmtpConnection connection;
  private final SmtpConnection.Client client;
  private final DeliveryRequest request;
  private final MessageFile file;
  private final String host;
  private boolean bodySent;
  /** The replies to MAIL and to each RCPT, as they come. */
  private Reply mail;
  private final List<Reply> rcpt = new ArrayList<>();

  private OutboundTransaction(SmtpConnection connection, DeliveryRequest request, MessageFile file) {
    this.connection = connection;
    this.client = connection.transport();
    this.request = request;
    this.file = file;
    this.host = connection.route.name();
  }

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
    if (connection.utf8) {
      parameters.add("SMTPUTF8"); // RFC 6531 §3.4 (offered: checked above)
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

    List<String> commands = new ArrayList<>(request.recipients().size() + 2);
    commands.add("MAIL FROM:<" + (request.nullSender() ? "" : request.mailFrom()) + ">"
        + (parameters.isEmpty() ? "" : " " + String.join(" ", parameters)));
    for (String r : request.recipients()) {
      commands.add("RCPT TO:<" + r + ">"); // the address as given: it was checked when it was accepted
    }
    commands.add("DATA");
    return new OutboundTransaction(connection, request, file).send(commands);
  }

  /**
   * MAIL, the RCPTs and DATA: in one write when the host offers PIPELINING (RFC 2920 §3.1; the replies
   * then come in the same order), else each after the reply to the one before, and no RCPT after a
   * refused MAIL nor DATA without an accepted RCPT; then the data, if the host took MAIL, DATA and at
   * least one recipient. Each recipient's outcome is the reply that decided it: MAIL's when MAIL was
   * refused, its RCPT's when that was refused, else DATA's when DATA was refused, else the final ".".
   */
  private Attempt send(List<String> commands) {
    // No loop here but in the methods called: C2 then compiles this once, not also on stack replacement.
    boolean pipelining = connection.supports("PIPELINING");
    connection.readTimeout(connection.settings().command());
    try {
      OutputStream out = new BufferedOutputStream(connection.output(), 8192);
      if (pipelining) {
        writeAll(out, commands);
      }
      mail = command(out, commands.get(0), !pipelining);
      if (pipelining || accepted(mail)) {
        recipients(out, commands, pipelining);
      }
      boolean anyone = accepted(mail) && rcpt.stream().anyMatch(OutboundTransaction::accepted);
      Reply data = pipelining || anyone ? command(out, "DATA", !pipelining) : null;
      if (!anyone || data.code() != 354) {
        endData(out, data);
        return decide(outcomes(data), data);
      }
      body(out);
      connection.readTimeout(connection.settings().dataEnd());
      Reply end = reply();
      return decide(outcomes(end), end);
    } catch (LocalReadException e) {
      // Mid-data: the session cannot be ended cleanly, so it is closed, not kept.
      return new Attempt(Outcomes.deferAll(request, Reply.local(451, "4.3.0", e.getMessage())), false, false);
    } catch (IOException | MessagingException e) {
      return closedAfter421().orElseGet(() -> lost(SmtpConnection.cause(e)));
    } catch (Ended e) {
      return closedAfter421().orElseGet(() -> lost(e.getMessage()));
    }
  }

  private void writeAll(OutputStream out, List<String> commands) throws IOException {
    for (String command : commands) {
      write(out, command);
    }
    out.flush();
  }

  /** The RCPTs' replies, each RCPT sent first unless it went out already (pipelined). */
  private void recipients(OutputStream out, List<String> commands, boolean pipelining)
      throws IOException, MessagingException, Ended {
    for (int i = 1; i < commands.size() - 1; i++) {
      rcpt.add(command(out, commands.get(i), !pipelining));
    }
  }

  /**
   * Each recipient's outcome from the reply that decided it: MAIL's when MAIL was refused, its RCPT's when
   * that was refused, else {@code last} (DATA's when DATA was refused, else the final "."; or a 421 the
   * host closed with before this RCPT's reply came).
   */
  private List<RecipientOutcome> outcomes(Reply last) {
    List<String> recipients = request.recipients();
    List<RecipientOutcome> outcomes = new ArrayList<>(recipients.size());
    for (int i = 0; i < recipients.size(); i++) {
      Reply decisive = !accepted(mail) ? mail : i < rcpt.size() && !accepted(rcpt.get(i)) ? rcpt.get(i) : last;
      outcomes.add(classify(recipients.get(i), decisive));
    }
    return outcomes;
  }

  /**
   * RFC 5321 §3.8: a host closes the session right after a 421, so the replies pipelined behind it never
   * come. The 421 then decides for MAIL, or for the recipients whose RCPT got no reply of its own: the
   * host's own words, which the backoff rules act on (a provider's rate limit), not "connection lost".
   */
  private Optional<Attempt> closedAfter421() {
    Reply closing = mail == null || mail.code() == 421 ? mail
        : rcpt.stream().filter(r -> r.code() == 421).findFirst().orElse(null);
    if (closing == null || bodySent) {
      return Optional.empty();
    }
    return Optional.of(new Attempt(outcomes(closing), false, false));
  }

  /** The connection ended before a whole reply came. */
  private static final class Ended extends Exception {
    Ended(String what) {
      super(what, null, false, false);
    }
  }

  private static boolean accepted(Reply reply) {
    return reply.code() >= 200 && reply.code() < 300;
  }

  /** Sends {@code command} unless it went out already (pipelined), and reads its reply. */
  private Reply command(OutputStream out, String command, boolean send) throws IOException, MessagingException, Ended {
    if (send) {
      write(out, command);
      out.flush();
    }
    return reply();
  }

  private Reply reply() throws MessagingException, Ended {
    int code = client.reply();
    if (code < 0) {
      String response = client.getLastServerResponse();
      throw new Ended(response == null || response.isEmpty() ? "[EOF]" : SmtpConnection.flat(response));
    }
    return Reply.remote(code, client.getLastServerResponse(), host);
  }

  private void write(OutputStream out, String command) throws IOException {
    // RFC 6531 §3.2: an SMTPUTF8 session's commands are UTF-8; others are ASCII (so are their addresses).
    out.write(command.getBytes(connection.utf8 ? StandardCharsets.UTF_8 : StandardCharsets.US_ASCII));
    out.write(CRLF);
  }

  /**
   * RFC 2920 §3.1: a DATA pipelined behind a refused MAIL or refused RCPTs may still get 354; the data
   * then ends at once, with nothing in it, and its reply is read and dropped (nobody is to get it).
   */
  private void endData(OutputStream out, Reply data) throws IOException, MessagingException, Ended {
    if (data != null && data.code() == 354) {
      new DataStuffing(out).end(); // an empty message's data: the end line alone
      out.flush();
      reply();
    }
  }

  /** The message as DATA content (RFC 5321 §4.5.2), then the final ".". */
  private void body(OutputStream out) throws IOException {
    InputStream in;
    try {
      in = file.source().open();
    } catch (IOException e) {
      throw new LocalReadException(e);
    }
    DataStuffing data = new DataStuffing(out);
    try (in) {
      byte[] buffer = new byte[MessageSource.bufferFor(file.size())];
      for (int n = read(in, buffer); n >= 0; n = read(in, buffer)) {
        data.write(buffer, 0, n); // an IOException here is the connection's
      }
    }
    data.end();
    bodySent = true;
    out.flush();
  }

  private static int read(InputStream in, byte[] buffer) throws LocalReadException {
    try {
      return in.read(buffer);
    } catch (IOException e) {
      throw new LocalReadException(e);
    }
  }

  /**
   * The connection ended or failed mid-transaction. Before the end of the data nothing was handed over,
   * and the next host may take the message; after it the host may have taken it (RFC 5321 §6.1 warns of
   * duplicates), so it waits for a later attempt rather than going to another host at once.
   */
  private Attempt lost(String why) {
    Reply lost = Reply.about(host, 421, "4.4.2",
        "connection with " + connection.route + " lost" + (bodySent ? " after the data" : "") + ": " + why);
    return new Attempt(Outcomes.deferAll(request, lost), !bodySent, false);
  }

  /** The outcomes; the session is kept unless the host said 421 (RFC 5321 §3.8: it is closing). */
  private Attempt decide(List<RecipientOutcome> outcomes, Reply last) {
    boolean closing = mail.code() == 421 || (last != null && last.code() == 421)
        || rcpt.stream().anyMatch(r -> r.code() == 421);
    return new Attempt(outcomes, false, !closing);
  }

  private static RecipientOutcome classify(String recipient, Reply reply) {
    if (accepted(reply)) {
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
