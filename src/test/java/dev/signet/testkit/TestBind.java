package dev.signet.testkit;

import dev.signet.config.HostPort;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A real authoritative DNS server for tests: BIND 9 ({@code named}) on 127.0.0.1 with a free port,
 * serving zones written by the test, DNSSEC-signed with {@code dnssec-keygen}/{@code dnssec-signzone}
 * where asked. The signed zones' key-signing keys are the trust anchors a validator gets
 * ({@link #writeTrustAnchors}), so the zones stand in for the root's chain of trust.
 *
 * <pre>
 * try (TestBind bind = TestBind.start(dir, List.of(
 *     TestBind.signed("dane.test", "dane.test. IN MX 10 mx.dane.test.", "mx.dane.test. IN A 127.0.0.2"),
 *     TestBind.unsigned("plain.test", "plain.test. IN MX 10 mx.plain.test.")))) {
 *   ... point the resolver at bind.address(), the trust anchor at bind.writeTrustAnchors(file) ...
 * }
 * </pre>
 */
public final class TestBind implements AutoCloseable {

  /**
   * A zone to serve: its records (zone-file lines, absolute names), signed or not, edited after signing,
   * and whether its key is a trust anchor.
   */
  public record Zone(String name, boolean signed, List<String> records, UnaryOperator<String> afterSigning,
      boolean anchor) {
    /** The same zone, with {@code edit} applied to the signed zone file (to break a signature). */
    public Zone tampered(UnaryOperator<String> edit) {
      return new Zone(name, signed, records, edit, anchor);
    }

    /**
     * The same signed zone, trusted through a DS record in its parent instead of as a trust anchor of
     * its own. The parent must come later in the list (it is signed after this zone, with the DS
     * generated from this zone's key) and hold the delegation ({@code child. IN NS ns.parent.}).
     */
    public Zone delegated() {
      return new Zone(name, signed, records, afterSigning, false);
    }
  }

  public static Zone signed(String name, String... records) {
    return new Zone(name, true, List.of(records), UnaryOperator.identity(), true);
  }

  public static Zone unsigned(String name, String... records) {
    return new Zone(name, false, List.of(records), UnaryOperator.identity(), false);
  }

  private final Process named;
  private final int port;
  private final String trustAnchors;
  private final Path log;

  private TestBind(Process named, int port, String trustAnchors, Path log) {
    this.named = named;
    this.port = port;
    this.trustAnchors = trustAnchors;
    this.log = log;
  }

  /** Writes and signs the zones under {@code dir}, starts named and waits until it answers for each zone. */
  public static TestBind start(Path dir, List<Zone> zones) throws IOException, InterruptedException {
    StringBuilder anchors = new StringBuilder();
    StringBuilder conf = new StringBuilder();
    for (Zone zone : zones) {
      Path file = dir.resolve(zone.name() + ".zone");
      StringBuilder text = new StringBuilder("$TTL 300\n")
          .append(zone.name()).append(". IN SOA ns.").append(zone.name()).append(". hostmaster.")
          .append(zone.name()).append(". 1 3600 600 86400 60\n")
          .append(zone.name()).append(". IN NS ns.").append(zone.name()).append(".\n")
          .append("ns.").append(zone.name()).append(". IN A 127.0.0.1\n");
      zone.records().forEach(r -> text.append(r).append('\n'));
      String served = zone.name() + ".zone";
      if (zone.signed()) {
        String zsk = run(dir, "dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-n", "ZONE", zone.name()).strip();
        String ksk = run(dir, "dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-n", "ZONE",
            zone.name()).strip();
        String kskRecord = Files.readString(dir.resolve(ksk + ".key"));
        text.append(Files.readString(dir.resolve(zsk + ".key"))).append(kskRecord);
        Files.writeString(file, text);
        // -g: DS records for the delegated zones signed before this one (from their dsset- files).
        run(dir, "dnssec-signzone", "-q", "-g", "-o", zone.name(), "-k", ksk + ".key", "-f", served + ".signed",
            served, zsk + ".key");
        Path signedFile = dir.resolve(served + ".signed");
        String signedText = Files.readString(signedFile);
        String edited = zone.afterSigning().apply(signedText);
        if (zone.afterSigning() != UnaryOperator.<String>identity() && edited.equals(signedText)) {
          throw new IOException("the edit of the signed zone " + zone.name() + " changed nothing");
        }
        Files.writeString(signedFile, edited);
        served = served + ".signed";
        for (String line : kskRecord.split("\n")) {
          if (zone.anchor() && !line.startsWith(";")) {
            anchors.append(line).append('\n');
          }
        }
      } else {
        Files.writeString(file, text);
      }
      conf.append("zone \"").append(zone.name()).append("\" { type primary; file \"")
          .append(dir.resolve(served)).append("\"; };\n");
    }
    int port = freePort();
    Path confFile = dir.resolve("named.conf");
    Files.writeString(confFile, "options {\n"
        + "  directory \"" + dir + "\";\n"
        + "  pid-file \"" + dir.resolve("named.pid") + "\";\n"
        + "  session-keyfile \"" + dir.resolve("session.key") + "\";\n"
        + "  managed-keys-directory \"" + dir + "\";\n"
        + "  listen-on port " + port + " { 127.0.0.1; };\n"
        + "  listen-on-v6 { none; };\n"
        + "  recursion no;\n"
        + "  dnssec-validation no;\n"
        + "};\n"
        + "controls { };\n" // no rndc channel on port 953: several servers may run at once
        + conf);
    Path log = dir.resolve("named.log");
    Process named = new ProcessBuilder("named", "-g", "-c", confFile.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    TestBind bind = new TestBind(named, port, anchors.toString(), log);
    try {
      bind.awaitAnswers(zones);
    } catch (IOException | RuntimeException e) {
      bind.close();
      throw e;
    }
    return bind;
  }

  public HostPort address() {
    return new HostPort("127.0.0.1", port);
  }

  /** The signed zones' KSKs as DNSKEY records (zone-file syntax), the trust anchors of a validator. */
  public Path writeTrustAnchors(Path file) throws IOException {
    Files.writeString(file, trustAnchors);
    return file;
  }

  private void awaitAnswers(List<Zone> zones) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", port));
    resolver.setTimeout(Duration.ofMillis(300));
    for (Zone zone : zones) {
      Message query = Message.newQuery(Record.newRecord(Name.fromString(zone.name() + "."), Type.SOA, DClass.IN));
      while (true) {
        if (!named.isAlive()) {
          throw new IOException("named exited with " + named.exitValue() + ": " + Files.readString(log));
        }
        try {
          if (resolver.send(query).getRcode() == Rcode.NOERROR) {
            break;
          }
        } catch (IOException e) {
          // not listening yet
        }
        if (Instant.now().isAfter(deadline)) {
          throw new IOException("named does not answer for " + zone.name() + ": " + Files.readString(log));
        }
        Thread.sleep(50);
      }
    }
  }

  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }

  /** A port free for both UDP and TCP on 127.0.0.1 at the moment. */
  private static int freePort() throws IOException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    for (int attempt = 0; attempt < 20; attempt++) {
      try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0));
          ServerSocket tcp = new ServerSocket()) {
        tcp.bind(new InetSocketAddress(loopback, udp.getLocalPort()));
        return udp.getLocalPort();
      } catch (IOException e) {
        // the TCP side is taken: another port
      }
    }
    throw new IOException("no port free for both UDP and TCP");
  }

  @Override
  public void close() throws InterruptedException {
    named.destroy();
    if (!named.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      named.destroyForcibly().waitFor();
    }
  }
}
