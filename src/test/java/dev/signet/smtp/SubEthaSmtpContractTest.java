package dev.signet.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.internal.command.StartTLSCommand;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * What Signet relies on in SubEthaSMTP beyond its public API. Signet's EHLO, MAIL, RCPT, AUTH, QUIT,
 * STARTTLS, DATA and BDAT (docs/ARCHITECTURE.md, package {@code smtp}) extend the library's
 * internal {@code BaseCommand} and are put in place with {@code CommandHandler.addCommand}; the
 * library offers no public way to replace a command (its builder takes none). An upgrade may change
 * any of this without a compile error, so each test says what to re-check when it fails.
 */
class SubEthaSmtpContractTest {
  private static final String PINNED = "7.2.2";
  private static final String RECHECK = "SubEthaSMTP changed under Signet's replaced commands (smtp/EnvelopeCommands,"
      + " AuthCommand, TransportCommands, DataCommands, DotData, BdatChunks). Re-check: ";

  @Test
  void theVersionIsTheOneTheseChecksWereWrittenFor() throws IOException {
    Properties pom = new Properties();
    try (InputStream in = SMTPServer.class.getResourceAsStream(
        "/META-INF/maven/com.github.davidmoten/subethasmtp/pom.properties")) {
      assertTrue(in != null, "no pom.properties in the SubEthaSMTP jar");
      pom.load(in);
    }
    assertEquals(PINNED, pom.getProperty("version"), RECHECK + "this whole test against the new version's sources"
        + " (BaseCommand, CommandHandler, Session, StartTLSCommand, the built-in DATA/BDAT), run SmugglingTest,"
        + " HostileInputTest and LimitsTest, then update PINNED here and subethasmtp.version in pom.xml together");
  }

  @Test
  void baseCommandKeepsTheShapeOurCommandsExtend() throws Exception {
    Class<BaseCommand> base = BaseCommand.class;
    assertTrue(Modifier.isAbstract(base.getModifiers()), RECHECK + "BaseCommand is no longer abstract");
    Constructor<BaseCommand> two = base.getDeclaredConstructor(String.class, String.class);
    Constructor<BaseCommand> three = base.getDeclaredConstructor(String.class, String.class, String.class);
    assertTrue(Modifier.isProtected(two.getModifiers()) && Modifier.isProtected(three.getModifiers()),
        RECHECK + "BaseCommand(name, help[, argumentDescription]) constructors");
    Method execute = base.getMethod("execute", String.class, Session.class);
    assertTrue(Modifier.isAbstract(execute.getModifiers()), RECHECK + "BaseCommand.execute(String, Session)");
    assertEquals(List.of(IOException.class, DropConnectionException.class), List.of(execute.getExceptionTypes()),
        RECHECK + "the exceptions BaseCommand.execute may throw (DropConnectionException closes the connection)");
    // STARTTLS wraps the library's own command rather than re-implementing the TLS handshake.
    assertTrue(BaseCommand.class.isAssignableFrom(StartTLSCommand.class), RECHECK + "StartTLSCommand");
    StartTLSCommand.class.getConstructor();
  }

  @Test
  void theSessionMethodsOurCommandsCallAreThere() {
    List<String> missing = new ArrayList<>();
    expect(missing, void.class, "sendResponse", String.class);
    expect(missing, boolean.class, "isMailTransactionInProgress");
    expect(missing, void.class, "startMailTransaction");
    expect(missing, void.class, "resetMailTransaction");
    expect(missing, MessageHandler.class, "getMessageHandler");
    expect(missing, int.class, "getRecipientCount");
    expect(missing, void.class, "addRecipient", String.class);
    expect(missing, InputStream.class, "getRawInput");
    expect(missing, java.util.Optional.class, "getHelo");
    expect(missing, void.class, "setHelo", String.class);
    expect(missing, boolean.class, "isTLSStarted");
    expect(missing, java.net.Socket.class, "getSocket");
    expect(missing, void.class, "closeSocket");
    expect(missing, void.class, "quit");
    expect(missing, java.util.Optional.class, "getAuthenticationHandler");
    expect(missing, void.class, "setAuthenticationHandler", org.subethamail.smtp.AuthenticationHandler.class);
    assertEquals(List.of(), missing, RECHECK + "the Session methods listed");
  }

  private static void expect(List<String> missing, Class<?> returns, String name, Class<?>... parameters) {
    try {
      Method m = Session.class.getMethod(name, parameters);
      if (!returns.isAssignableFrom(m.getReturnType())) {
        missing.add(name + " returns " + m.getReturnType().getName() + ", expected " + returns.getName());
      }
    } catch (NoSuchMethodException e) {
      missing.add(name + List.of(parameters));
    }
  }

  /**
   * Over a real socket: addCommand replaces a built-in verb (DATA here), the session then runs ours;
   * MAIL's transaction holds the handler our factory made; and the raw input supports mark/reset
   * and shares its position with the command reader, which DotData needs to leave a pipelined
   * command after the data for the session (SMTP smuggling).
   */
  @Test
  void addCommandReplacesABuiltInVerbAndTheSessionRunsOurs() throws Exception {
    AtomicReference<MessageHandler> made = new AtomicReference<>();
    SMTPServer server = SMTPServer.port(0)
        .bindAddress(InetAddress.getLoopbackAddress())
        .messageHandlerFactory(context -> {
          MailTransaction tx = new MailTransaction();
          made.set(tx);
          return tx;
        })
        .build();
    AtomicReference<String> seen = new AtomicReference<>("DATA not run");
    BaseCommand probe = new BaseCommand("DATA", "probe") {
      @Override
      public void execute(String command, Session sess) throws IOException {
        boolean ours = sess.getMessageHandler() == made.get();
        InputStream raw = sess.getRawInput();
        StringBuilder line = new StringBuilder();
        for (int c = raw.read(); c != '\n' && c >= 0; c = raw.read()) {
          line.append((char) c);
        }
        sess.resetMailTransaction();
        seen.set("handler=" + ours + " mark=" + raw.markSupported() + " data=" + line.toString().strip()
            + " open=" + sess.isMailTransactionInProgress());
        sess.sendResponse("250 probe");
      }
    };
    server.getCommandHandler().addCommand(probe);
    assertSame(probe, server.getCommandHandler().getCommand("DATA"),
        RECHECK + "CommandHandler.addCommand no longer replaces a built-in verb");
    server.start();
    try (SmtpClient c = new SmtpClient(server.getPortAllocated())) {
      c.read();
      c.command("EHLO client.example");
      assertTrue(c.command("MAIL FROM:<a@example.com>").startsWith("250"));
      c.write("DATA\r\nraw line\r\nNOOP\r\n"); // pipelined: our DATA reads one raw line, NOOP stays a command
      assertEquals("250 probe", c.read().strip(), RECHECK + "addCommand: the session did not run our DATA");
      assertTrue(c.read().startsWith("250"), RECHECK + "the command reader and getRawInput() share one stream");
      assertEquals("handler=true mark=true data=raw line open=false", seen.get(),
          RECHECK + "Session.getMessageHandler after startMailTransaction, getRawInput().markSupported(),"
              + " resetMailTransaction");
    } finally {
      server.stop();
    }
  }
}
