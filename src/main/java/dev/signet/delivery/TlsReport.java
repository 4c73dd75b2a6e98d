package dev.signet.delivery;

import dev.signet.delivery.TlsReportStore.Row;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * One TLS-RPT aggregate report: the sessions of one UTC day with one policy domain, as the JSON of
 * RFC 8460 §4.4 (gzipped, §5.1) and as the mail message of §5.3.
 *
 * @param submitter the reporting domain (the domain of {@code delivery.tls-reports.from})
 */
record TlsReport(String organization, String contact, String submitter, String domain, LocalDate day,
    Map<Row, Long> counts) {

  private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'");

  Instant start() {
    return day.atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /** §4.4 end-datetime: the last second of the day (the RFC's own example ends at 23:59:59Z). */
  Instant end() {
    return day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusSeconds(1);
  }

  /** §4.4 report-id: unique per report, the same if the same day's report is built again. */
  String id() {
    return day + "T00:00:00Z_" + domain + "@" + submitter;
  }

  /** RFC 8460 §4.4. Sessions are grouped by policy; a policy's failures by their details. */
  String json() {
    record Policy(String type, List<String> strings, List<String> mx) {}
    Map<Policy, long[]> summaries = new LinkedHashMap<>();
    Map<Policy, List<Map.Entry<Row, Long>>> failures = new LinkedHashMap<>();
    counts.entrySet().stream().filter(e -> e.getKey().domain().equals(domain)).forEach(e -> {
      Row r = e.getKey();
      Policy p = new Policy(r.policyType(), r.policyStrings(), r.mxHosts());
      long[] s = summaries.computeIfAbsent(p, k -> new long[2]);
      if (r.success()) {
        s[0] += e.getValue();
      } else {
        s[1] += e.getValue();
        failures.computeIfAbsent(p, k -> new ArrayList<>()).add(e);
      }
    });
    StringBuilder j = new StringBuilder("{");
    j.append("\"organization-name\":").append(str(organization))
        .append(",\"date-range\":{\"start-datetime\":").append(str(time(start())))
        .append(",\"end-datetime\":").append(str(time(end()))).append('}')
        .append(",\"contact-info\":").append(str(contact))
        .append(",\"report-id\":").append(str(id()))
        .append(",\"policies\":[");
    boolean firstPolicy = true;
    for (Map.Entry<Policy, long[]> e : summaries.entrySet()) {
      Policy p = e.getKey();
      j.append(firstPolicy ? "" : ",").append("{\"policy\":{\"policy-type\":").append(str(p.type()));
      firstPolicy = false;
      if (!p.strings().isEmpty()) {
        j.append(",\"policy-string\":").append(array(p.strings()));
      }
      j.append(",\"policy-domain\":").append(str(domain));
      if (!p.mx().isEmpty()) {
        j.append(",\"mx-host\":").append(array(p.mx()));
      }
      j.append("},\"summary\":{\"total-successful-session-count\":").append(e.getValue()[0])
          .append(",\"total-failure-session-count\":").append(e.getValue()[1]).append('}');
      List<Map.Entry<Row, Long>> failed = failures.getOrDefault(p, List.of());
      if (!failed.isEmpty()) {
        j.append(",\"failure-details\":[");
        for (int i = 0; i < failed.size(); i++) {
          Row r = failed.get(i).getKey();
          j.append(i == 0 ? "" : ",").append("{\"result-type\":").append(str(r.result()));
          optional(j, "sending-mta-ip", r.sendingIp());
          optional(j, "receiving-mx-hostname", r.receivingMx());
          optional(j, "receiving-ip", r.receivingIp());
          j.append(",\"failed-session-count\":").append(failed.get(i).getValue()).append('}');
        }
        j.append(']');
      }
      j.append('}');
    }
    return j.append("]}").toString();
  }

  /** §5.1: the report is gzipped for both transports. */
  byte[] gzipped() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(json().getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  /** §5.1 file name: sender!policy-domain!begin-timestamp!end-timestamp.json.gz (Unix seconds). */
  String fileName() {
    return submitter + "!" + domain + "!" + start().getEpochSecond() + "!" + end().getEpochSecond() + ".json.gz";
  }

  /**
   * §5.3: a multipart/report (report-type "tlsrpt") with the gzipped report as an
   * application/tlsrpt+gzip part; Subject, TLS-Report-Domain and TLS-Report-Submitter as the RFC
   * spells them. Lines end in CRLF, the attachment in base64 lines of 76 characters.
   */
  byte[] message(String from, String to, String hostname, Instant now) throws IOException {
    String boundary = "tlsrpt-" + Long.toHexString(now.toEpochMilli()) + "-" + Integer.toHexString(domain.hashCode());
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(now, ZoneOffset.UTC));
    String base64 = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(gzipped());
    String text = "From: " + from + "\r\n"
        + "To: " + to + "\r\n"
        + "Date: " + date + "\r\n"
        + "Message-ID: <tlsrpt." + day + "." + domain + "." + now.toEpochMilli() + "@" + hostname + ">\r\n"
        + "Subject: Report Domain: " + domain + " Submitter: " + submitter + " Report-ID: <" + id() + ">\r\n"
        + "TLS-Report-Domain: " + domain + "\r\n"
        + "TLS-Report-Submitter: " + submitter + "\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"" + boundary + "\"\r\n"
        + "\r\n"
        + "--" + boundary + "\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "This is an aggregate TLS report (RFC 8460) from " + organization + " about mail to " + domain + "\r\n"
        + "between " + time(start()) + " and " + time(end()) + ".\r\n"
        + "\r\n"
        + "--" + boundary + "\r\n"
        + "Content-Type: application/tlsrpt+gzip\r\n"
        + "Content-Transfer-Encoding: base64\r\n"
        + "Content-Disposition: attachment; filename=\"" + fileName() + "\"\r\n"
        + "\r\n"
        + base64 + "\r\n"
        + "\r\n"
        + "--" + boundary + "--\r\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String time(Instant t) {
    return RFC3339.format(t.atZone(ZoneOffset.UTC));
  }

  private static void optional(StringBuilder j, String name, String value) {
    if (!value.isEmpty()) {
      j.append(",\"").append(name).append("\":").append(str(value));
    }
  }

  private static String array(List<String> values) {
    StringBuilder a = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      a.append(i == 0 ? "" : ",").append(str(values.get(i)));
    }
    return a.append(']').toString();
  }

  /** A JSON string (RFC 8259 §7). */
  private static String str(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
