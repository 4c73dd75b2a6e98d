package dev.signet.dmarc;

import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.URLName;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.FlagTerm;
import jakarta.mail.util.SharedFileInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * DMARC aggregate reports in, summaries out: from an IMAP mailbox (the {@code rua=} address's), a
 * directory, or one stream. Each report is parsed as it streams ({@link ReportParser}), stored once
 * per reporter and report id, and handed to {@code onNew} (the relay counts it in its metrics). A file
 * that is not a report is reported and skipped, never fatal.
 */
public final class DmarcReports {

  /** What became of one report file or attachment. */
  public sealed interface Outcome {
    String source();

    /** Stored now, for the first time. */
    record Stored(String source, ReportSummary report) implements Outcome {}

    /** Stored before (same reporter and report id): not counted again. */
    record Duplicate(String source, ReportSummary report) implements Outcome {}

    /** Not a readable report: skipped. */
    record Malformed(String source, String reason) implements Outcome {}
  }

  private final ReportStore store;
  private final Consumer<ReportSummary> onNew;

  /** @param spoolDir the relay's {@code spool.dir}; summaries live in its {@code dmarc/} directory */
  public DmarcReports(Path spoolDir, Consumer<ReportSummary> onNew) throws IOException {
    this.store = new ReportStore(spoolDir);
    this.onNew = onNew;
  }

  /** Every summary stored so far. */
  public List<ReportSummary> stored() throws IOException {
    return store.all();
  }

  /** One report file: XML, gzip or zip. */
  public Outcome report(String source, InputStream in) throws IOException {
    ReportSummary summary;
    try {
      summary = ReportParser.parse(in);
    } catch (MalformedReport e) {
      return new Outcome.Malformed(source, e.getMessage());
    } catch (IOException e) {
      // a damaged gzip or zip is the file's fault, not ours
      return new Outcome.Malformed(source, "unreadable: " + e.getMessage());
    }
    if (!store.add(summary)) {
      return new Outcome.Duplicate(source, summary);
    }
    onNew.accept(summary);
    return new Outcome.Stored(source, summary);
  }

  /**
   * A stream holding either a report file or a whole mail message (RFC 5322) with reports attached. A
   * report is parsed as it streams; a message is first copied to a temporary file and parsed there
   * ({@link #message(String, Path)}), so a large one never sits in the heap.
   */
  public List<Outcome> stream(String source, InputStream raw) throws IOException {
    BufferedInputStream in = new BufferedInputStream(raw, 8192);
    in.mark(64);
    byte[] head = in.readNBytes(64);
    in.reset();
    if (looksLikeReport(head)) {
      return List.of(report(source, in));
    }
    Path copy = Files.createTempFile("signet-dmarc-", ".eml"); // owner-only: it may hold anyone's mail
    try {
      Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
      return message(source, copy);
    } finally {
      Files.deleteIfExists(copy);
    }
  }

  /** One file holding either a report or a mail message with reports attached; a message is parsed in place. */
  public List<Outcome> file(Path file) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(64);
    }
    if (!looksLikeReport(head)) {
      return message(file.toString(), file);
    }
    try (InputStream in = Files.newInputStream(file)) {
      return List.of(report(file.toString(), in));
    }
  }

  /** Every regular file in {@code dir} (not recursive), in name order. */
  public List<Outcome> directory(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isRegularFile)) {
      entries.forEach(files::add);
    }
    files.sort(null);
    List<Outcome> out = new ArrayList<>();
    for (Path file : files) {
      out.addAll(file(file));
    }
    return out;
  }

  /**
   * A mail message in a file. Over a {@link SharedFileInputStream} Angus reads only the header block
   * into memory; each body part becomes a window on the file (MimeMessage and MimeMultipart parse a
   * SharedInputStream by offsets), and an attachment is decoded as it streams into the report parser.
   * Over any other stream MimeMessage would copy the whole message into a byte array.
   */
  private List<Outcome> message(String source, Path file) throws IOException {
    SharedFileInputStream in = new SharedFileInputStream(file.toFile());
    try {
      return message(source, new MimeMessage(Session.getInstance(new Properties()), in));
    } catch (MessagingException e) {
      return List.of(new Outcome.Malformed(source, "neither a report nor a mail message: " + e.getMessage()));
    } finally {
      in.close();
    }
  }

  /**
   * The unread messages of an IMAP mailbox ({@code imap://user:password@host:port/folder}, or
   * {@code imaps://}); each is marked read once its attachments are stored or found malformed. A
   * message whose reports could not be stored (our own I/O trouble) stays unread for the next poll.
   */
  public List<Outcome> mailbox(String url) throws IOException {
    URLName name = new URLName(url);
    if (name.getProtocol() == null || !name.getProtocol().matches("imaps?")) {
      throw new IOException("dmarc.imap: expected imap://user:password@host:port/folder or imaps://..., got '"
          + redact(url) + "'");
    }
    Properties p = new Properties();
    for (String proto : List.of("imap", "imaps")) {
      p.put("mail." + proto + ".connectiontimeout", "30000");
      p.put("mail." + proto + ".timeout", "60000");
    }
    p.put("mail.imap.starttls.enable", "true");
    List<Outcome> out = new ArrayList<>();
    Store store = null;
    try {
      store = Session.getInstance(p).getStore(name);
      store.connect();
      String folderName = name.getFile() == null || name.getFile().isEmpty() ? "INBOX" : name.getFile();
      Folder folder = store.getFolder(folderName);
      folder.open(Folder.READ_WRITE);
      try {
        for (Message m : folder.search(new FlagTerm(new Flags(Flags.Flag.SEEN), false))) {
          String source = redact(url) + "#" + m.getMessageNumber();
          out.addAll(message(source, m));
          m.setFlag(Flags.Flag.SEEN, true);
        }
      } finally {
        folder.close(false);
      }
    } catch (MessagingException e) {
      throw new IOException("IMAP " + redact(url) + ": " + e.getMessage(), e);
    } finally {
      if (store != null) {
        try {
          store.close();
        } catch (MessagingException e) {
          // closed either way
        }
      }
    }
    return out;
  }

  private List<Outcome> message(String source, Part message) throws IOException {
    List<Outcome> out = new ArrayList<>();
    try {
      walk(source, message, out);
    } catch (MessagingException e) {
      out.add(new Outcome.Malformed(source, "unreadable message: " + e.getMessage()));
    }
    if (out.isEmpty()) {
      out.add(new Outcome.Malformed(source, "no report attached (.xml, .xml.gz or .zip)"));
    }
    return out;
  }

  private void walk(String source, Part part, List<Outcome> out) throws MessagingException, IOException {
    if (part.isMimeType("multipart/*")) {
      Multipart multi = (Multipart) part.getContent();
      for (int i = 0; i < multi.getCount(); i++) {
        walk(source, multi.getBodyPart(i), out);
      }
      return;
    }
    String file = part.getFileName() == null ? "" : part.getFileName().toLowerCase(Locale.ROOT);
    boolean report = file.endsWith(".xml") || file.endsWith(".gz") || file.endsWith(".zip")
        || part.isMimeType("application/gzip") || part.isMimeType("application/x-gzip")
        || part.isMimeType("application/zip") || part.isMimeType("application/x-zip-compressed")
        || part.isMimeType("application/xml") || part.isMimeType("text/xml");
    if (report) {
      try (InputStream in = part.getInputStream()) {
        out.add(report(source + (file.isEmpty() ? "" : "/" + part.getFileName()), in));
      }
    }
  }

  private static boolean looksLikeReport(byte[] head) {
    if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return true;
    }
    if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
      return true;
    }
    for (byte b : head) {
      if (b == '<') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n' && (b & 0xff) != 0xef && (b & 0xff) != 0xbb
          && (b & 0xff) != 0xbf) { // white space and a UTF-8 byte order mark may precede the XML
        return false;
      }
    }
    return false;
  }

  /** The URL without its password, for messages and logs. */
  static String redact(String url) {
    return url.replaceFirst("(//[^:/@]*:)[^@/]*@", "$1***@");
  }
}
