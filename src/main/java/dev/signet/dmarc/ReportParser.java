package dev.signet.dmarc;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Reads one aggregate report (RFC 7489 appendix C) as it streams past: plain XML, gzip or zip
 * (recognized by their first bytes, whatever the file is called). StAX, element by element: memory
 * stays the same for a report of 50 kB or 50 MB, only the summary grows, and it has a bound.
 */
final class ReportParser {

  private static final Set<String> RESULTS = Set.of("pass", "fail");
  private static final Set<String> DISPOSITIONS = Set.of("none", "quarantine", "reject");

  private static final XMLInputFactory XML = xmlFactory();

  private ReportParser() {}

  static ReportSummary parse(InputStream raw) throws MalformedReport, IOException {
    try (InputStream in = unpack(raw)) {
      return read(in);
    }
  }

  /** gzip (1f 8b) or zip ("PK\3\4", the first .xml entry) or as is. */
  static InputStream unpack(InputStream raw) throws IOException, MalformedReport {
    BufferedInputStream in = new BufferedInputStream(raw, 8192);
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      return new GZIPInputStream(in, 8192);
    }
    if (magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
      ZipInputStream zip = new ZipInputStream(in);
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        if (!e.isDirectory() && e.getName().toLowerCase(Locale.ROOT).endsWith(".xml")) {
          return zip;
        }
      }
      throw new MalformedReport("zip archive without an .xml file");
    }
    return in;
  }

  private static ReportSummary read(InputStream in) throws MalformedReport {
    Deque<String> path = new ArrayDeque<>();
    StringBuilder text = new StringBuilder();
    String org = null;
    String email = "";
    String id = null;
    Instant begin = null;
    Instant end = null;
    String domain = "";
    Map<List<String>, Long> tallies = new LinkedHashMap<>();
    Map<String, Long> unauthorized = new LinkedHashMap<>();
    Row row = new Row();
    try {
      XMLStreamReader xml = XML.createXMLStreamReader(in);
      try {
        while (xml.hasNext()) {
          switch (xml.next()) {
            case XMLStreamConstants.START_ELEMENT -> {
              path.addLast(xml.getLocalName());
              text.setLength(0);
              if (path(path).equals("feedback/record")) {
                row = new Row();
              }
            }
            case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
              if (text.length() < 1024) { // no value we keep is longer; a hostile one is cut
                text.append(xml.getText(), 0, Math.min(xml.getTextLength(), 1024 - text.length()));
              }
            }
            case XMLStreamConstants.END_ELEMENT -> {
              String value = text.toString().strip();
              switch (path(path)) {
                case "feedback/report_metadata/org_name" -> org = value;
                case "feedback/report_metadata/email" -> email = value;
                case "feedback/report_metadata/report_id" -> id = value;
                case "feedback/report_metadata/date_range/begin" -> begin = epoch(value, "begin");
                case "feedback/report_metadata/date_range/end" -> end = epoch(value, "end");
                case "feedback/policy_published/domain" -> domain = value.toLowerCase(Locale.ROOT);
                case "feedback/record/row/source_ip" -> row.ip = value;
                case "feedback/record/row/count" -> row.count = count(value);
                case "feedback/record/row/policy_evaluated/disposition" -> row.disposition = closed(value, DISPOSITIONS);
                case "feedback/record/row/policy_evaluated/dkim" -> row.dkim = closed(value, RESULTS);
                case "feedback/record/row/policy_evaluated/spf" -> row.spf = closed(value, RESULTS);
                case "feedback/record/auth_results/spf/result" -> row.spfAuthPass |= value.equalsIgnoreCase("pass");
                case "feedback/record" -> {
                  tallies.merge(List.of(row.dkim, row.spf, row.disposition), row.count, Long::sum);
                  if (!row.spfAuthPass && row.count > 0) {
                    String key = unauthorized.containsKey(row.ip) || unauthorized.size() < ReportSummary.MAX_IPS
                        ? row.ip : ReportSummary.OTHER_IPS;
                    unauthorized.merge(key, row.count, Long::sum);
                  }
                }
                default -> { }
              }
              path.removeLast();
              text.setLength(0);
            }
            default -> { }
          }
        }
      } finally {
        xml.close();
      }
    } catch (XMLStreamException e) {
      throw new MalformedReport("not well-formed XML: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // StAX implementations wrap I/O trouble (a truncated gzip) in unchecked exceptions
      throw new MalformedReport("unreadable: " + e.getMessage(), e);
    }
    if (org == null || org.isEmpty() || id == null || id.isEmpty() || begin == null) {
      throw new MalformedReport("not a DMARC aggregate report: report_metadata lacks org_name, report_id or date_range");
    }
    List<ReportSummary.Tally> list = new ArrayList<>();
    tallies.forEach((k, v) -> list.add(new ReportSummary.Tally(k.get(0), k.get(1), k.get(2), v)));
    return new ReportSummary(org, email, id, begin, end == null ? begin : end, domain, list, unauthorized);
  }

  private static final class Row {
    String ip = "?";
    long count;
    String disposition = "none";
    String dkim = "fail";
    String spf = "fail";
    boolean spfAuthPass;
  }

  private static String path(Deque<String> path) {
    return String.join("/", path);
  }

  private static Instant epoch(String value, String what) {
    try {
      return Instant.ofEpochSecond(Long.parseLong(value));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("date_range " + what + " is not a number: '" + value + "'");
    }
  }

  private static long count(String value) {
    try {
      long n = Long.parseLong(value);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("row count is not a number: '" + value + "'");
  }

  /** A value from a closed set (it becomes a metric label), anything else is "other". */
  private static String closed(String value, Set<String> allowed) {
    String v = value.toLowerCase(Locale.ROOT);
    return allowed.contains(v) ? v : "other";
  }

  private static XMLInputFactory xmlFactory() {
    XMLInputFactory f = XMLInputFactory.newFactory();
    // Reports come from strangers: no DTDs, no external entities (XXE), no entity expansion.
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    f.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
    f.setProperty(XMLInputFactory.IS_COALESCING, false);
    return f;
  }
}
