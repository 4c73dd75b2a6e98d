/**
 * Delivery: from a signed message file to the recipients' mail servers.
 *
 * <p>What the queue's Scheduler calls:
 *
 * <ul>
 *   <li>{@link dev.signet.delivery.SmtpSender#deliver} with a {@link dev.signet.delivery.DeliveryRequest}
 *       (queue id, MAIL FROM, the recipients of one domain, the message file) returns a
 *       {@link dev.signet.delivery.DeliveryResult}: one {@link dev.signet.delivery.RecipientOutcome} per
 *       recipient, Delivered, Deferred (retry per delivery.retry) or Failed (bounce now), each with the
 *       {@link dev.signet.delivery.Reply} that decided it. It resolves MX hosts itself
 *       ({@link dev.signet.delivery.MxResolver}) unless delivery.smarthost is set. One instance per
 *       relay; thread-safe; close it at shutdown.
 *   <li>{@link dev.signet.delivery.Bouncer#failed} / {@link dev.signet.delivery.Bouncer#delayed} turn
 *       outcomes into an RFC 3464 DSN to enqueue from the null sender to the original MAIL FROM; empty
 *       when the original had the null sender.
 * </ul>
 *
 * <p>Inside, in the order {@code SmtpSender} runs them (docs/ARCHITECTURE.md, "Packages"):
 * {@code LoopGuard} (hop count; undialable addresses and our own listeners), {@code RoutePlanner}
 * (smarthost or MX routes under the TLS policy, source addresses, at most 5 hosts), shaping's admission,
 * {@code RouteAttempt} (the routes in order), {@code Sessions} (kept sessions, or a lease and a new
 * {@code SmtpConnection}: one SMTP session set up by Angus's SMTPTransport), {@code OutboundTransaction}
 * (MAIL/RCPT/DATA, pipelined where the host offers it, with per-recipient replies), {@code SevenBitRetry},
 * {@code Outcomes}. {@code DataStuffing} puts the file's bytes on the wire, never re-encoded; {@code ConnectionPool} keeps
 * connections per group and host. The one exception to "never re-encoded": 8-bit mail for a
 * destination where no host offers 8BITMIME, converted to 7 bits and signed again by a
 * {@link dev.signet.delivery.SevenBitConversion} the relay supplies (RFC 6152 §3).
 *
 * <p>Delivery security: {@code TlsPolicies} decides per recipient domain how its sessions must be
 * secured ({@code TlsPolicy}: the operator's delivery.tls-policy entry, else the domain's MTA-STS policy
 * from {@code MtaSts}, cached on disk, else opportunistic TLS); {@code PeerTrust} holds the roots
 * (JDK + delivery.ca-file) that verify MX hosts and MTA-STS policy hosts by name.
 */
package dev.signet.delivery;
