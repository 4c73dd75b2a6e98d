package dev.signet.delivery;

import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.InternetAddress;
import java.util.Properties;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/**
 * Initializes the Jakarta Mail classes a delivery uses, on the thread that builds the sender, before
 * any delivery runs. Some read a resource from their jar while they initialize ({@code MimeUtility} its
 * charset map, a {@code Session} the providers). Left to the first deliveries, a fresh relay had many
 * virtual threads initializing them at once: a thread waiting for a class's initialization keeps its
 * carrier (the JDK pins it there), and the one initializing it waited for a jar lock held by a virtual
 * thread that had no carrier left to run on. The relay then neither delivered nor stopped
 * (docs/ARCHITECTURE.md "Threads").
 */
final class MailClasses {
  private MailClasses() {}

  static void initialize() {
    Session session = Session.getInstance(new Properties());
    // MimeMessage, InternetHeaders, MimeUtility, MailDateFormat, Flags
    new SMTPMessage(session);
    new InternetAddress();
    // Service, Transport, URLName, SMTPTransport with its authenticators and loggers; connects nowhere
    new SMTPTransport(session, new URLName("smtp", "localhost", 25, null, null, null));
    // What connecting and sending initialize
    for (String name : CONNECTING) {
      try {
        Class.forName(name, true, SMTPTransport.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("Jakarta Mail without " + name, e);
      }
    }
  }

  private static final java.util.List<String> CONNECTING = java.util.List.of(
      "jakarta.mail.PasswordAuthentication",
      "org.eclipse.angus.mail.util.SocketFetcher",
      "org.eclipse.angus.mail.util.LogOutputStream",
      "org.eclipse.angus.mail.util.TraceInputStream",
      "org.eclipse.angus.mail.util.TraceOutputStream",
      "org.eclipse.angus.mail.util.ASCIIUtility",
      "org.eclipse.angus.mail.util.CRLFOutputStream",
      "org.eclipse.angus.mail.smtp.SMTPOutputStream");
}
