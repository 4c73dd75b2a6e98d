package dev.signet.cli;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.james.jspf.core.DNSRequest;
import org.apache.james.jspf.core.DNSService;
import org.apache.james.jspf.core.exceptions.TimeoutException;
import org.apache.james.jspf.impl.DNSServiceXBillImpl;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * jSPF's DNS, answered through {@link DnsLookups} (our servers, no cache). jSPF's own dnsjava service
 * uses dnsjava's static default cache and, for asynchronous lookups, the system's resolvers; this one
 * never does. It also counts void lookups (RFC 7208 §4.6.4: answers with no records) for the doctor.
 */
final class JspfDns implements DNSService {

  private final DnsLookups dns;
  private final String hostname;
  private final AtomicInteger voidLookups = new AtomicInteger();
  private int recordLimit = 50;

  JspfDns(DnsLookups dns, String hostname) {
    this.dns = dns;
    this.hostname = hostname;
  }

  /** Void lookups since the last {@link #resetVoidLookups}. */
  int voidLookups() {
    return voidLookups.get();
  }

  void resetVoidLookups() {
    voidLookups.set(0);
  }

  @Override
  public List<String> getRecords(DNSRequest request) throws TimeoutException {
    int type = switch (request.getRecordType()) {
      case DNSRequest.A -> Type.A;
      case DNSRequest.AAAA -> Type.AAAA;
      case DNSRequest.MX -> Type.MX;
      case DNSRequest.PTR -> Type.PTR;
      case DNSRequest.TXT -> Type.TXT;
      case DNSRequest.SPF -> Type.SPF;
      default -> -1;
    };
    if (type < 0) {
      return null;
    }
    DnsLookups.Answer answer = dns.query(request.getHostname(), type);
    if (answer.result() == Lookup.TRY_AGAIN) {
      throw new TimeoutException(answer.error());
    }
    if (answer.records().isEmpty()) {
      if (type != Type.SPF) { // the obsolete SPF RR type: jSPF asks, nobody publishes it (RFC 7208 §3.1)
        voidLookups.incrementAndGet();
      }
      return null;
    }
    return DNSServiceXBillImpl.convertRecordsToList(answer.records().toArray(Record[]::new));
  }

  @Override
  public CompletionStage<List<String>> getRecordsAsync(DNSRequest request) {
    try {
      return CompletableFuture.completedFuture(getRecords(request));
    } catch (TimeoutException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public List<String> getLocalDomainNames() {
    return List.of(hostname);
  }

  @Override
  public void setTimeOut(int timeOut) {
    // DnsLookups has its own timeout
  }

  @Override
  public int getRecordLimit() {
    return recordLimit;
  }

  @Override
  public void setRecordLimit(int recordLimit) {
    this.recordLimit = recordLimit;
  }
}
