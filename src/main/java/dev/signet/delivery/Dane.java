package dev.signet.delivery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

/**
 * DANE for SMTP (RFC 7672, with RFC 6698/7671): which MX hosts of a domain are to be authenticated
 * by TLSA records, and the TLS check itself. Lookups go through a {@link DnssecResolver}; only
 * secure answers count (§2.1.1): an insecure MX set, address or TLSA answer means no DANE for that
 * host; a bogus one makes the host (or, for the MX set, the domain) unusable until it heals.
 *
 * <p>A resolver that strips DNSSEC (every signed answer would look bogus) must not stall mail to
 * every signed domain: {@link #available} validates the trust anchors' DNSKEY sets first, and while
 * that fails DANE is left out (with a warning) rather than deferring everything.
 */
final class Dane {

  private static final Logger log = LoggerFactory.getLogger(Dane.class);

  /** One TLSA record usable for SMTP (RFC 7672 §3.1): DANE-TA(2) or DANE-EE(3), selector 0/1, matching 0/1/2. */
  record Tlsa(int usage, int selector, int matching, String data) {
    static final int DANE_TA = 2;
    static final int DANE_EE = 3;

    @Override
    public String toString() {
      return usage + " " + selector + " " + matching + " " + data;
    }
  }

  /** What DNSSEC says about the MX set of a domain. */
  enum MxSecurity { SECURE, INSECURE, BOGUS }

  /** What DANE asks for one MX host. */
  sealed interface Host {
    /** No secure TLSA records (or the host's addresses are not secure): DANE does not apply. */
    record NoDane(String why) implements Host {}

    /**
     * Secure TLSA records: TLS is mandatory; {@code usable} authenticate the peer. None usable =
     * TLS without authentication (RFC 7672 §2.2).
     */
    record Required(List<Tlsa> usable) implements Host {}

    /** A bogus or failed lookup: do not use this host now (RFC 7672 §2.2.3). */
    record Unusable(String why) implements Host {}
  }

  /** How often the trust anchors are validated again (a stripping resolver may heal, or start). */
  static final java.time.Duration PROBE = java.time.Duration.ofMinutes(5);

  /** DANE for a relay with {@code delivery}: empty when delivery.dane is off. */
  static java.util.Optional<Dane> forRelay(dev.signet.config.SignetConfig.Delivery delivery) throws IOException {
    if (!delivery.dane()) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(new Dane(new DnssecResolver(delivery.dns(), delivery.trustAnchor()), 25));
    } catch (IOException e) {
      throw new IOException("delivery.dnssec.trust-anchor " + e.getMessage(), e);
    }
  }

  private final DnssecResolver resolver;
  private final int port;
  private volatile Boolean validating; // null until the first probe
  private final AtomicInteger available = new AtomicInteger(-1);

  /** @param port the SMTP port TLSA records are looked up for ({@code _25._tcp}) */
  Dane(DnssecResolver resolver, int port) {
    this.resolver = resolver;
    this.port = port;
  }

  /**
   * Whether DNSSEC gets through the resolvers (the trust anchors' DNSKEY sets validate). Probed on
   * first use and by {@link #probe} (periodically); false = DANE is left out.
   */
  boolean available() {
    Boolean v = validating;
    if (v == null) {
      synchronized (this) {
        if (validating == null) {
          probe();
        }
        v = validating;
      }
    }
    return v;
  }

  /** Validates the trust anchors' DNSKEY sets now; logs when the state changes. */
  synchronized void probe() {
    boolean ok = resolver.validatesTrustAnchors();
    Boolean before = validating;
    validating = ok;
    available.set(ok ? 1 : 0);
    if (!ok && !Boolean.FALSE.equals(before)) {
      log.warn("dnssec: the DNSKEY set of {} does not validate through delivery.dns: the resolver strips or "
          + "breaks DNSSEC; delivering without DANE until it validates again", resolver.trustAnchorNames());
    } else if (ok && Boolean.FALSE.equals(before)) {
      log.info("dnssec: the DNSKEY set of {} validates again: DANE is back on", resolver.trustAnchorNames());
    }
  }

  /** 1 when DNSSEC validates through the resolvers, 0 when not, -1 before the first probe. */
  int availability() {
    return available.get();
  }

  /** RFC 7672 §2.2.1: DANE applies only to MX hosts named by a secure MX set. */
  MxSecurity mx(String domain) {
    DnssecResolver.Answer a = resolver.query(domain, Type.MX);
    return switch (a.security()) {
      case SECURE -> MxSecurity.SECURE;
      case INSECURE -> MxSecurity.INSECURE;
      case BOGUS, FAILED -> MxSecurity.BOGUS;
    };
  }

  /** Why the MX lookup was bogus, for the deferral text. */
  String mxTrouble(String domain) {
    return resolver.query(domain, Type.MX).reason();
  }

  /** RFC 7672 §2.2.2-§2.2.3: secure addresses, then the TLSA records at _25._tcp.{@code host}. */
  Host host(String host) {
    for (int type : new int[] {Type.A, Type.AAAA}) {
      DnssecResolver.Answer a = resolver.query(host, type);
      switch (a.security()) {
        case INSECURE -> {
          return new Host.NoDane(Type.string(type) + " of " + host + " is not DNSSEC-signed");
        }
        case BOGUS, FAILED -> {
          return new Host.Unusable(Type.string(type) + " lookup of " + host + " failed DNSSEC validation: " + a.reason());
        }
        case SECURE -> { }
      }
    }
    String name = "_" + port + "._tcp." + host;
    DnssecResolver.Answer tlsa = resolver.query(name, Type.TLSA);
    switch (tlsa.security()) {
      case INSECURE -> {
        return new Host.NoDane("TLSA of " + name + " is not DNSSEC-signed");
      }
      case BOGUS, FAILED -> {
        return new Host.Unusable("TLSA lookup of " + name + " failed DNSSEC validation: " + tlsa.reason());
      }
      case SECURE -> { }
    }
    if (tlsa.records().isEmpty()) {
      return new Host.NoDane("no TLSA records at " + name);
    }
    List<Tlsa> usable = new ArrayList<>();
    for (Record r : tlsa.records()) {
      TLSARecord t = (TLSARecord) r;
      // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP; so are unknown selectors and types.
      if ((t.getCertificateUsage() == Tlsa.DANE_TA || t.getCertificateUsage() == Tlsa.DANE_EE)
          && t.getSelector() <= 1 && t.getMatchingType() <= 2) {
        usable.add(new Tlsa(t.getCertificateUsage(), t.getSelector(), t.getMatchingType(),
            HexFormat.of().formatHex(t.getCertificateAssociationData())));
      }
    }
    return new Host.Required(usable);
  }

  /**
   * TLS to {@code name} authenticated by {@code tlsa} (none = encrypt only): SNI with the MX name
   * (RFC 7672 §8.1), TLS 1.2+, the chain checked by {@link #check}.
   */
  static SSLSocketFactory verifying(String name, List<Tlsa> tlsa) {
    SSLSocketFactory base;
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new DaneTrust(name, tlsa)}, null);
      base = context.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS in this JVM", e);
    }
    // DANE-EE ignores the names in the certificate (RFC 7672 §3.1.1); DaneTrust checks them for DANE-TA.
    return new LayeredTls(base, name, false, "DANE");
  }

  /**
   * RFC 7672 §3.1: DANE-EE(3) matches the leaf (its name and dates do not matter, §3.1.1); DANE-TA(2)
   * matches a certificate of the chain the server sent, which must then sign its way down to a leaf
   * that is valid now and names {@code name} (§3.1.2, §3.2.2).
   */
  static void check(X509Certificate[] chain, String name, List<Tlsa> tlsa) throws CertificateException {
    if (tlsa.isEmpty()) {
      return; // no usable record: TLS is required, authentication is not (RFC 7672 §2.2)
    }
    if (chain == null || chain.length == 0) {
      throw new CertificateException("DANE: no certificate from " + name);
    }
    for (Tlsa t : tlsa) {
      if (t.usage() == Tlsa.DANE_EE && matches(chain[0], t)) {
        return;
      }
    }
    for (Tlsa t : tlsa) {
      if (t.usage() != Tlsa.DANE_TA) {
        continue;
      }
      for (int i = 0; i < chain.length; i++) {
        if (matches(chain[i], t) && chainsTo(chain, i, name)) {
          return;
        }
      }
    }
    throw new CertificateException("DANE: no TLSA record of " + name + " matches the certificate chain ("
        + tlsa.size() + " usable record" + (tlsa.size() == 1 ? "" : "s") + ")");
  }

  private static boolean chainsTo(X509Certificate[] chain, int anchor, String name) throws CertificateException {
    for (int k = 0; k < anchor; k++) {
      try {
        chain[k].verify(chain[k + 1].getPublicKey());
      } catch (GeneralSecurityException e) {
        return false;
      }
    }
    for (int k = 0; k <= anchor; k++) {
      chain[k].checkValidity();
    }
    if (!PeerTrust.matches(chain[0], name)) {
      throw new CertificateException("DANE-TA: the certificate does not name " + name);
    }
    return true;
  }

  private static boolean matches(X509Certificate certificate, Tlsa t) throws CertificateEncodingException {
    byte[] selected = t.selector() == 0 ? certificate.getEncoded() : certificate.getPublicKey().getEncoded();
    byte[] expected = HexFormat.of().parseHex(t.data().toLowerCase(Locale.ROOT));
    byte[] actual = switch (t.matching()) {
      case 0 -> selected;
      case 1 -> digest("SHA-256", selected);
      default -> digest("SHA-512", selected);
    };
    return MessageDigest.isEqual(expected, actual);
  }

  private static byte[] digest(String algorithm, byte[] data) {
    try {
      return MessageDigest.getInstance(algorithm).digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(algorithm + " missing from this JVM", e);
    }
  }

  /** A trust manager that trusts exactly what the TLSA records say. */
  private static final class DaneTrust extends X509ExtendedTrustManager {
    private final String name;
    private final List<Tlsa> tlsa;

    DaneTrust(String name, List<Tlsa> tlsa) {
      this.name = name;
      this.tlsa = tlsa;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain, name, tlsa);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, name, tlsa);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, name, tlsa);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a client-side trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a client-side trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a client-side trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
