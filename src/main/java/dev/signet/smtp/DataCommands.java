package dev.signet.smtp;

import java.io.IOException;
import java.io.InputStream;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * DATA and BDAT, replacing SubEthaSMTP's. Theirs leave the rest of a refused message in the input
 * (to be read as commands: SMTP smuggling), keep the transaction open after a refusal, and (BDAT)
 * neither skip the chunk of a refused BDAT nor notice a connection closed inside a chunk.
 */
final class DataCommands {
  private DataCommands() {}

  static final class Data extends BaseCommand {
    private final MessageReceiver receiver;

    Data(MessageReceiver receiver) {
      super("DATA", "Following text is collected as the message.");
      this.receiver = receiver;
    }

    @Override
    public void execute(String command, Session sess) throws IOException {
      if (!command.trim().equalsIgnoreCase("DATA")) {
        sess.sendResponse("501 5.5.4 DATA takes no parameters");
        return;
      }
      if (!sess.isMailTransactionInProgress()) {
        sess.sendResponse("503 5.5.1 Need MAIL before DATA");
        return;
      }
      if (sess.getRecipientCount() == 0) {
        sess.sendResponse("554 5.5.1 No valid recipients"); // RFC 5321 §3.3
        return;
      }
      sess.sendResponse("354 End data with <CR><LF>.<CR><LF>");
      InputStream data = new DotData(sess.getRawInput());
      MessageInput input = new MessageInput(data, receiver.maxSize(), () -> MessageInput.readToEnd(data));
      try {
        reply(sess, receiver.receive(sess, (MailTransaction) sess.getMessageHandler(), input));
      } finally {
        // RFC 5321 §4.1.1.4: the transaction ends with the data; reset after the reply, so a graceful
        // shutdown (SubmissionServer.shutdown) never closes a session between its 250 and the client.
        sess.resetMailTransaction();
      }
    }
  }

  static final class Chunk extends BaseCommand {
    private final MessageReceiver receiver;

    Chunk(MessageReceiver receiver) {
      super("BDAT", "A chunk of the message (RFC 3030).", "size [LAST]");
      this.receiver = receiver;
    }

    @Override
    public void execute(String command, Session sess) throws IOException, DropConnectionException {
      BdatChunks.Command bdat;
      try {
        bdat = BdatChunks.Command.parse(command);
      } catch (BdatChunks.SyntaxLost e) {
        throw new DropConnectionException(501, e.getMessage().substring(4));
      }
      if (!sess.isMailTransactionInProgress() || sess.getRecipientCount() == 0) {
        // RFC 3030 §2: the chunk is read even when refused, or its bytes would be read as commands.
        BdatChunks.skip(sess.getRawInput(), bdat.size());
        sess.sendResponse(sess.isMailTransactionInProgress()
            ? "554 5.5.1 No valid recipients" : "503 5.5.1 Need MAIL and RCPT before BDAT");
        return;
      }
      BdatChunks chunks = new BdatChunks(sess, bdat.size(), bdat.last());
      MessageInput input = new MessageInput(chunks, receiver.maxSize(), chunks::discardChunk);
      try {
        reply(sess, receiver.receive(sess, (MailTransaction) sess.getMessageHandler(), input));
      } finally {
        sess.resetMailTransaction(); // after the reply, as for DATA
      }
    }
  }

  /** Sends the reply to a message's data, then hands an accepted message on, even if the client is gone. */
  private static void reply(Session sess, MessageReceiver.Received received) throws IOException {
    try {
      sess.sendResponse(received.reply());
    } finally {
      received.afterReply().run();
    }
  }
}
