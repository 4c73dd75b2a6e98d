package dev.signet.delivery;

import dev.signet.config.HostPort;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Master;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A small authoritative DNS server for tests: real UDP and TCP on 127.0.0.1 (one random port for both),
 * answering from an in-memory zone of dnsjava records. Per name it can also answer SERVFAIL or drop
 * queries (the client sees a timeout).
 *
 * <pre>
 * try (TestDnsServer dns = TestDnsServer.start()) {
 *   dns.add("example.com. 300 IN MX 10 mx1.example.com.");
 *   dns.add("mx1.example.com. 300 IN A 127.0.0.2");
 *   ... point delivery.dns at dns.address() ...
 * }
 * </pre>
 */
public final class TestDnsServer implements AutoCloseable {

  /** Negative answers carry this SOA (RFC 2308 §3); its owner, the root, is a parent of every name. */
  private static final SOARecord SOA = soa();

  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final List<Record> records = new CopyOnWriteArrayList<>();
  private final Set<Name> servfail = ConcurrentHashMap.newKeySet();
  private final Set<Name> dropped = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
  private final AtomicInteger tcpQueries = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean open = true;

  private TestDnsServer(DatagramSocket udp, ServerSocket tcp) {
    this.udp = udp;
    this.tcp = tcp;
  }

  /** Binds UDP and TCP on the same free port of 127.0.0.1 and starts answering. */
  public static TestDnsServer start() throws IOException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    IOException last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0));
      ServerSocket tcp = new ServerSocket();
      try {
        tcp.setReuseAddress(true);
        tcp.bind(new InetSocketAddress(loopback, udp.getLocalPort()));
      } catch (IOException e) { // the TCP side of that port is taken: pick another
        last = e;
        udp.close();
        tcp.close();
        continue;
      }
      TestDnsServer server = new TestDnsServer(udp, tcp);
      server.spawn("test-dns-udp", server::serveUdp);
      server.spawn("test-dns-tcp", server::serveTcp);
      return server;
    }
    throw last;
  }

  /** Where to point {@code delivery.dns}. */
  public HostPort address() {
    return new HostPort("127.0.0.1", udp.getLocalPort());
  }

  public int port() {
    return udp.getLocalPort();
  }

  /** Adds records in zone-file syntax, one per line: {@code "example.com. 300 IN MX 10 mx.example.com."}. */
  public TestDnsServer add(String... zoneLines) {
    for (String line : zoneLines) {
      try (Master master = new Master(new ByteArrayInputStream(line.getBytes(StandardCharsets.UTF_8)), Name.root, 300)) {
        for (Record r = master.nextRecord(); r != null; r = master.nextRecord()) {
          records.add(r);
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("not a zone-file record: " + line + ": " + e.getMessage(), e);
      }
    }
    return this;
  }

  public TestDnsServer add(Record record) {
    records.add(record);
    return this;
  }

  /** Forgets every record owned by {@code name}. */
  public TestDnsServer remove(String name) {
    Name n = name(name);
    records.removeIf(r -> r.getName().equals(n));
    return this;
  }

  /** Queries for {@code name} (any type) get SERVFAIL. */
  public TestDnsServer servfail(String name) {
    servfail.add(name(name));
    return this;
  }

  /** Queries for {@code name} get no answer at all: the client times out. */
  public TestDnsServer drop(String name) {
    dropped.add(name(name));
    return this;
  }

  /** Back to answering {@code name} from the zone. */
  public TestDnsServer heal(String name) {
    servfail.remove(name(name));
    dropped.remove(name(name));
    return this;
  }

  /** How many queries arrived for {@code name} and {@code type} (e.g. "MX"), over UDP and TCP. */
  public int queries(String name, String type) {
    AtomicInteger n = queries.get(name(name) + "/" + type.toUpperCase(java.util.Locale.ROOT));
    return n == null ? 0 : n.get();
  }

  /** How many queries arrived over TCP. */
  public int tcpQueries() {
    return tcpQueries.get();
  }

  @Override
  public void close() {
    open = false;
    udp.close();
    try {
      tcp.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (Thread t : threads) {
        try {
          t.join(2000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** The answer to one query, or null to stay silent. */
  Message answer(Message query) {
    Record question = query.getQuestion();
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    if (query.getHeader().getFlag(Flags.RD)) {
      response.getHeader().setFlag(Flags.RD);
    }
    if (question == null) {
      response.getHeader().setRcode(Rcode.FORMERR);
      return response;
    }
    response.addRecord(question, Section.QUESTION);
    Name qname = question.getName();
    int qtype = question.getType();
    queries.computeIfAbsent(qname + "/" + Type.string(qtype), k -> new AtomicInteger()).incrementAndGet();
    if (dropped.contains(qname)) {
      return null;
    }
    if (servfail.contains(qname)) {
      response.getHeader().setRcode(Rcode.SERVFAIL);
      return response;
    }
    response.getHeader().setFlag(Flags.AA);
    // Follow CNAMEs inside the zone (RFC 1034 §3.6.2), a bounded number of times.
    Name current = qname;
    for (int hops = 0; hops < 8; hops++) {
      List<Record> owned = owned(current);
      if (owned.isEmpty()) {
        if (hops == 0) {
          response.getHeader().setRcode(Rcode.NXDOMAIN);
          response.addRecord(SOA, Section.AUTHORITY);
        }
        return response;
      }
      List<Record> matching = owned.stream().filter(r -> r.getType() == qtype || qtype == Type.ANY).toList();
      if (!matching.isEmpty()) {
        matching.forEach(r -> response.addRecord(r, Section.ANSWER));
        return response;
      }
      Record cname = owned.stream().filter(r -> r.getType() == Type.CNAME).findFirst().orElse(null);
      if (cname == null) {
        response.addRecord(SOA, Section.AUTHORITY); // NODATA: the name exists, the type does not
        return response;
      }
      response.addRecord(cname, Section.ANSWER);
      current = cname.getAdditionalName();
    }
    return response;
  }

  private List<Record> owned(Name name) {
    return records.stream().filter(r -> r.getName().equals(name)).toList();
  }

  private void serveUdp() {
    byte[] buffer = new byte[65535];
    while (open) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        udp.receive(packet);
        Message query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
        Message response = answer(query);
        if (response == null) {
          continue;
        }
        // RFC 1035 §4.2.1: 512 octets over UDP unless the client offered more with EDNS (RFC 6891 §6.2.5);
        // toWire(max) truncates and sets TC, so the client retries over TCP.
        int max = query.getOPT() == null ? 512 : Math.max(512, query.getOPT().getPayloadSize());
        byte[] wire = response.toWire(max);
        udp.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
      } catch (SocketException e) {
        return; // closed
      } catch (IOException e) {
        // an unparseable datagram: ignore it, like a real server
      }
    }
  }

  private void serveTcp() {
    while (open) {
      Socket client;
      try {
        client = tcp.accept();
      } catch (IOException e) {
        return; // closed
      }
      Thread.ofVirtual().name("test-dns-tcp-conn").start(() -> serveTcpConnection(client));
    }
  }

  /** RFC 1035 §4.2.2: each message is preceded by a two-octet length. */
  private void serveTcpConnection(Socket client) {
    try (client) {
      client.setSoTimeout(10_000);
      DataInputStream in = new DataInputStream(client.getInputStream());
      DataOutputStream out = new DataOutputStream(client.getOutputStream());
      while (open) {
        int length;
        try {
          length = in.readUnsignedShort();
        } catch (EOFException e) {
          return;
        }
        byte[] data = in.readNBytes(length);
        tcpQueries.incrementAndGet();
        Message response = answer(new Message(data));
        if (response == null) {
          continue;
        }
        byte[] wire = response.toWire();
        out.writeShort(wire.length);
        out.write(wire);
        out.flush();
      }
    } catch (IOException e) {
      // client went away
    }
  }

  private void spawn(String name, Runnable body) {
    Thread t = Thread.ofPlatform().name(name).daemon().start(body);
    threads.add(t);
  }

  private static Name name(String text) {
    try {
      return Name.fromString(text.endsWith(".") ? text : text + ".");
    } catch (TextParseException e) {
      throw new IllegalArgumentException("not a DNS name: " + text, e);
    }
  }

  private static SOARecord soa() {
    try {
      return new SOARecord(Name.root, DClass.IN, 60, Name.fromString("ns.test."),
          Name.fromString("hostmaster.test."), 1, 60, 60, 60, 60);
    } catch (TextParseException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
