package dev.signet.delivery;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Properties;
import org.eclipse.angus.mail.dsn.DeliveryStatus;
import org.eclipse.angus.mail.dsn.MultipartReport;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.eclipse.angus.mail.util.CRLFOutputStream;

/**
 * Initializes the Jakarta Mail classes that a delivery or a failure report (DSN) uses, and
 * {@link SmtpConnection}, on the thread that builds the sender, before any delivery runs. Some read a
 * resource from their jar while they initialize ({@code MimeUtility} its charset map, a {@code Session}
 * the providers, the activation framework every jar's mailcap; {@code SmtpConnection} starts JSSE). Left to the first deliveries, a fresh relay had many virtual threads
 * initializing them at once: a thread waiting for a class's initialization keeps its carrier (the JDK
 * pins it there), and the one initializing it waited for a jar lock held by a virtual thread that had
 * no carrier left to run on. The relay then neither delivered nor stopped (docs/ARCHITECTURE.md
 * "Threads and who owns what").
 */
final class MailClasses {
  private static boolean initialized;

  private MailClasses() {}

  /** Once per JVM: a later sender (the tests build hundreds in one JVM) finds the classes initialized. */
  static synchronized void initialize() {
    if (initialized) {
      return;
    }
    Session session = Session.getInstance(new Properties());
    // MimeMessage, InternetHeaders, MimeUtility, MailDateFormat, Flags
    new SMTPMessage(session);
    new InternetAddress();
    // Service, Transport, URLName, SMTPTransport with its authenticators and loggers; connects nowhere
    new SMTPTransport(session, new URLName("smtp", "localhost", 25, null, null, null));
    // What connecting, sending and a server's refusal initialize
    USED_LATER.forEach(MailClasses::initializeClass);
    // What a failure report (Bouncer) initializes: MIME multiparts and the activation framework, which
    // reads the mailcap files of every jar
    try {
      DeliveryStatus status = new DeliveryStatus();
      InternetHeaders perMessage = new InternetHeaders();
      perMessage.addHeader("Reporting-MTA", "dns; localhost");
      status.setMessageDSN(perMessage);
      MimeMessage report = new MimeMessage(session);
      report.setContent(new MultipartReport("", status, new InternetHeaders()));
      report.saveChanges();
      report.writeTo(new CRLFOutputStream(OutputStream.nullOutputStream()));
    } catch (MessagingException | IOException e) {
      throw new IllegalStateException("cannot build a failure report: " + e, e);
    }
    // SmtpConnection's own initializer builds the SSLContext of opportunistic TLS (JSSE reads the
    // security properties and its providers while it starts), and every first delivery waits for it.
    initializeClass(SmtpConnection.class.getName());
    initialized = true;
  }

  private static void initializeClass(String name) {
    try {
      Class.forName(name, true, MailClasses.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("no class " + name + " on the class path", e);
    }
  }

  private static final List<String> USED_LATER = List.of(
      "jakarta.mail.PasswordAuthentication",
      "jakarta.mail.MessagingException",
      "jakarta.mail.SendFailedException",
      "jakarta.mail.AuthenticationFailedException",
      "jakarta.mail.Message$RecipientType",
      "jakarta.mail.internet.MimeMessage$RecipientType",
      "jakarta.mail.util.ByteArrayDataSource",
      "jakarta.mail.util.SharedByteArrayInputStream",
      "org.eclipse.angus.mail.smtp.SMTPAddressFailedException",
      "org.eclipse.angus.mail.smtp.SMTPSendFailedException",
      "org.eclipse.angus.mail.smtp.SMTPSenderFailedException",
      "org.eclipse.angus.mail.util.MailConnectException",
      "org.eclipse.angus.mail.util.SocketFetcher",
      "org.eclipse.angus.mail.util.LogOutputStream",
      "org.eclipse.angus.mail.util.TraceInputStream",
      "org.eclipse.angus.mail.util.TraceOutputStream",
      "org.eclipse.angus.mail.util.ASCIIUtility",
      "org.eclipse.angus.mail.smtp.SMTPOutputStream");
}
