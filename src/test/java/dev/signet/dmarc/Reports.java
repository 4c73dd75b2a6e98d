package dev.signet.dmarc;

import jakarta.activation.DataHandler;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Aggregate reports as receivers send them (RFC 7489 appendix C), and the mail messages carrying them. */
final class Reports {

  private Reports() {}

  /**
   * A report by {@code org} (contact {@code email}) with two records: 10 messages from 127.0.0.5 that
   * passed everything, 2 from 192.0.2.99 that failed DKIM and SPF and were quarantined.
   */
  static String xml(String org, String email, String id) {
    return """
        <?xml version="1.0" encoding="UTF-8" ?>
        <feedback>
          <report_metadata>
            <org_name>%s</org_name>
            <email>%s</email>
            <report_id>%s</report_id>
            <date_range><begin>1764979200</begin><end>1765065599</end></date_range>
          </report_metadata>
          <policy_published>
            <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>quarantine</sp><pct>100</pct>
          </policy_published>
          <record>
            <row>
              <source_ip>127.0.0.5</source_ip><count>10</count>
              <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
            </row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results>
              <dkim><domain>example.com</domain><result>pass</result><selector>rsa2026</selector></dkim>
              <spf><domain>example.com</domain><result>pass</result></spf>
            </auth_results>
          </record>
          <record>
            <row>
              <source_ip>192.0.2.99</source_ip><count>2</count>
              <policy_evaluated><disposition>quarantine</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>
            </row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results>
              <spf><domain>example.com</domain><result>softfail</result></spf>
            </auth_results>
          </record>
        </feedback>
        """.formatted(org, email, id);
  }

  static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  static byte[] zip(String name, String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(name));
      zip.write(text.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  /** A report mail as Google or Microsoft send it: a short text and the report attached. */
  static MimeMessage mail(String from, String fileName, String contentType, byte[] attachment) throws Exception {
    MimeMessage m = new MimeMessage(Session.getInstance(new Properties()));
    m.setFrom(new InternetAddress(from));
    m.setRecipient(MimeMessage.RecipientType.TO, new InternetAddress("dmarc@example.com"));
    m.setSubject("Report domain: example.com Submitter: " + from);
    MimeBodyPart text = new MimeBodyPart();
    text.setText("This is an aggregate report from " + from + ".");
    MimeBodyPart file = new MimeBodyPart();
    file.setDataHandler(new DataHandler(new ByteArrayDataSource(attachment, contentType)));
    file.setFileName(fileName);
    m.setContent(new MimeMultipart(text, file));
    m.saveChanges();
    return m;
  }
}
