package dev.signet.cli;

import static dev.signet.testkit.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.signet.delivery.TestDnsServer;
import dev.signet.dkim.DnsRecord;
import dev.signet.dkim.KeyRing;
import dev.signet.dkim.SigningKey;
import dev.signet.testkit.ScriptedMx;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path with {@code signet serve} as a separate JVM: a Jakarta Mail client submits, the
 * relay signs and spools, its scheduler delivers to a ScriptedMx MX found through the TestDnsServer, and
 * the message on the wire verifies with jDKIM. The MX is down at first: `queue list` reads the spool,
 * `queue flush` asks the running relay through its admin API.
 */
class ServeDeliveryTest {
  @TempDir Path dir;

  @Test
  void submittedMailIsSignedDeliveredAndFlushedThroughTheRunningRelay() throws Exception {
    Path keys = dir.resolve("keys");
    Path key = keys.resolve("example.com/rsa2048.pem");
    Files.createDirectories(key.getParent());
    try (InputStream in = ServeDeliveryTest.class.getResourceAsStream("/keys/example.com/rsa2048.pem")) {
      Files.write(key, in.readAllBytes());
    }
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    SigningKey rsa = KeyRing.load(keys).all().get(0);
    int mxPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      mxPort = s.getLocalPort();
    }
    try (TestDnsServer dns = TestDnsServer.start()) {
      dns.add("dest.test. 300 IN MX 10 mx.dest.test.", "mx.dest.test. 300 IN A 127.0.0.2");
      Path config = dir.resolve("signet.yaml");
      Files.writeString(config, "hostname: relay.test\nlisten.submission: 127.0.0.1:0\nmetrics.listen: 127.0.0.1:0\nadmin.listen: 127.0.0.1:0\n"
          + "dkim.keys: " + keys + "\nspool.dir: " + dir.resolve("spool") + "\n"
          + "delivery.dns: [" + dns.address().host() + ":" + dns.address().port() + "]\n"
          + "delivery.port: " + mxPort + "\ndelivery.retry: [1h]\n");
      Process relay = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString())
          .redirectErrorStream(true).start();
      StringBuffer log = new StringBuffer();
      java.util.function.Supplier<String> relayLog = () -> "relay log:\n" + log;
      Thread drain = Thread.ofPlatform().daemon().start(() -> {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line = out.readLine(); line != null; line = out.readLine()) {
            log.append(line).append('\n');
          }
        } catch (java.io.IOException e) {
          log.append("(output closed: ").append(e).append(")\n");
        }
      });
      ScriptedMx mx = null;
      try {
        Pattern listening = Pattern.compile("listening on /127\\.0\\.0\\.1:(\\d+)");
        await("relay listening", Duration.ofSeconds(60), () -> listening.matcher(log).find(), relayLog);
        Matcher m = listening.matcher(log);
        assertTrue(m.find());
        int port = Integer.parseInt(m.group(1));

        Properties props = new Properties();
        props.put("mail.smtp.host", "127.0.0.1");
        props.put("mail.smtp.port", Integer.toString(port));
        MimeMessage message = new MimeMessage(Session.getInstance(props));
        message.setFrom(new InternetAddress("app@example.com"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress("rcpt@dest.test"));
        message.setSubject("through the whole relay");
        message.setText("Hello from the application.\r\n.and a line with a leading dot\r\n");
        Transport.send(message);

        await("first attempt deferred", Duration.ofSeconds(30),
            () -> log.indexOf("domain=dest.test rcpts=1 result=deferred") >= 0, relayLog);
        String list = queue(config, "list");
        // the 1h retry with its ±20% jitter
        assertTrue(Pattern.compile("<app@example.com>  pending=1 delivered=0 failed=0  next=in (4[89]m\\d\\ds|5\\dm\\d\\ds|1h[01]\\dm)")
            .matcher(list).find(), list);

        mx = ScriptedMx.start("127.0.0.2", mxPort).hostName("mx.test");
        assertEquals("flushed 1 message (by the running relay)\n", queue(config, "flush"));
        ScriptedMx up = mx;
        await("delivered after the flush", Duration.ofSeconds(30), () -> up.copies().size() == 1, relayLog);

        byte[] wire = mx.copies().get(0).data();
        assertEquals("app@example.com", mx.copies().get(0).from());
        DKIMVerifier verifier = new DKIMVerifier((method, selector, domain) ->
            selector.toString().equals(rsa.selector()) && domain.toString().equals(rsa.domain())
                ? List.of(DnsRecord.of(rsa).value()) : List.of());
        List<SignatureRecord> valid = verifier.verify(new ByteArrayInputStream(wire));
        assertFalse(valid == null || valid.isEmpty(), () -> "jDKIM rejects:\n" + new String(wire, StandardCharsets.UTF_8));
        await("message removed", Duration.ofSeconds(10), () -> queue(config, "list").startsWith("0 messages"), relayLog);
      } finally {
        relay.toHandle().destroy(); // SIGTERM: the shutdown hook stops listeners, scheduler, spool
        boolean ended = relay.waitFor(30, TimeUnit.SECONDS);
        relay.destroyForcibly();
        drain.join(5000);
        if (mx != null) {
          mx.close();
        }
        assertTrue(ended, "relay did not stop:\n" + log);
      }
      assertTrue(log.indexOf("scheduler: stopped") >= 0, log.toString());
    }
  }

  private static String queue(Path config, String... args) {
    String[] full = new String[args.length + 3];
    full[0] = "queue";
    System.arraycopy(args, 0, full, 1, args.length);
    full[args.length + 1] = "--config";
    full[args.length + 2] = config.toString();
    OpsRig.Run run = OpsRig.signet(full);
    assertEquals(0, run.exit(), "queue " + String.join(" ", args));
    return run.out();
  }

}
