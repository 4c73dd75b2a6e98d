package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.config.SignetConfig;
import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.KeyRing;
import dev.signet.testkit.ScriptedMx;
import dev.signet.testkit.TestKeys;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the operations tests share: keys from the test resources, a config file for a relay on
 * ephemeral loopback ports, a minimal SMTP client over a real socket, /metrics scraping.
 */
final class OpsRig {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private OpsRig() {}

  /** Installs test key {@code resource} (under /keys/example.com/) as {@code keys/<domain>/<selector>.pem}, 0600. */
  static Path installKey(Path keys, String resource, String domain, String selector) throws IOException {
    return TestKeys.installKey(keys, resource, domain, selector);
  }


  /** A config for a relay in {@code dir}: ephemeral ports, delivery through {@code dns} to {@code port}. */
  static Path config(Path dir, TestDnsServer dns, int deliveryPort, String... extra) throws IOException {
    StringBuilder yaml = new StringBuilder()
        .append("hostname: relay.test\n")
        .append("listen.submission: 127.0.0.1:0\n")
        .append("metrics.listen: 127.0.0.1:0\n")
        .append("admin.listen: 127.0.0.1:0\n")
        .append("dkim.keys: ").append(dir.resolve("keys")).append('\n')
        .append("spool.dir: ").append(dir.resolve("spool")).append('\n')
        .append("delivery.dns: [").append(dns == null ? "127.0.0.1:9" : dns.address().host() + ":"
            + dns.address().port()).append("]\n")
        .append("delivery.port: ").append(deliveryPort).append('\n');
    for (String line : extra) {
      yaml.append(line).append('\n');
    }
    Path file = dir.resolve("signet.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  static Relay start(Path configFile) throws Exception {
    SignetConfig c = SignetConfig.load(Optional.of(configFile), Map.of());
    return Relay.start(c, KeyRing.load(c.dkim().keys()));
  }

  /** A recipient MX on {@code address} that answers 550 5.1.1 for gone@dest.test and takes the rest. */
  static ScriptedMx refusingMx(String address, int port) throws IOException {
    return ScriptedMx.start(address, port).hostName("mx.dest.test")
        .refuse("gone@dest.test", "550 5.1.1 <gone@dest.test>: Recipient address rejected: User unknown");
  }

  static int freePort() throws IOException {
    return ScriptedMx.freePort();
  }

  /** What {@code signet args...} returned and printed. */
  record Run(int exit, String out, String err) {}

  /** Runs {@code signet args...} in this JVM with stdout and stderr captured. */
  static Run signet(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** Runs {@code signet COMMAND args... --config CONFIG}, as {@link #signet(String...)}. */
  static Run signet(String command, Path config, String... args) {
    String[] full = new String[args.length + 3];
    full[0] = command;
    System.arraycopy(args, 0, full, 1, args.length);
    full[args.length + 1] = "--config";
    full[args.length + 2] = config.toString();
    return signet(full);
  }

  /** One SMTP transaction; returns the final reply to the data (or the first refusal before it). */
  static String send(int port, String from, String body, String... rcpts) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      String greeting = reply(in);
      if (!greeting.startsWith("220")) {
        return greeting;
      }
      StringBuilder commands = new StringBuilder("EHLO client.test\r\nMAIL FROM:<" + from + ">\r\n");
      for (String r : rcpts) {
        commands.append("RCPT TO:<").append(r).append(">\r\n");
      }
      for (String command : commands.toString().split("(?<=\r\n)")) {
        out.write(command.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String r = reply(in);
        if (!r.startsWith("250")) {
          return r;
        }
      }
      out.write("DATA\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String r = reply(in);
      if (!r.startsWith("354")) {
        return r;
      }
      out.write(body.getBytes(StandardCharsets.ISO_8859_1));
      out.write("\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String result = reply(in);
      out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return result;
    }
  }

  /** The last line of a (possibly multi-line) reply; "" at end of stream. */
  static String reply(BufferedReader in) throws IOException {
    String line;
    while ((line = in.readLine()) != null) {
      if (line.length() < 4 || line.charAt(3) != '-') {
        return line;
      }
    }
    return "";
  }

  /** Sends {@code text} as it is (commands end in CRLF) and flushes. */
  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  static String message(String from, String subject) {
    return "From: <" + from + ">\r\nTo: <a@dest.test>\r\nSubject: " + subject + "\r\n\r\nHello.\r\n";
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of one series in a Prometheus text exposition. */
  static double sample(String exposition, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(exposition);
    assertTrue(m.find(), "no sample " + series + " in the scrape");
    return Double.parseDouble(m.group(1));
  }

}
