/**
 * Provider-aware traffic shaping: groups destinations by mailbox provider (MX host name suffixes),
 * keeps each group within its connections, messages per connection, rate and recipients per
 * transaction, and backs off when the provider's replies say so. {@link dev.signet.shaping.Shaping} is
 * the entry type the delivery stage calls; the counters live in this process or in Redis.
 */
package dev.signet.shaping;
