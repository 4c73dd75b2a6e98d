#!/usr/bin/perl
# Mail::DKIM verifier for the interop manifest; keys come from the DNS server at 127.0.0.1:PORT.
# usage: mail_dkim_verify.pl PORT MANIFEST  -> prints: label, check, result (pass|fail), detail
use strict;
use warnings;
use Mail::DKIM;
use Mail::DKIM::Verifier;
use Mail::DKIM::Signature;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my ($port, $manifest) = @ARGV;
my $resolver = Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'], port => $port, recurse => 1,
    udp_timeout => 5, tcp_timeout => 5, retry => 2);
Mail::DKIM::DNS::resolver($resolver);

# RFC 8463 ed25519-sha256 is verified only by Mail::DKIM releases that know the algorithm (Debian 12
# ships 1.20230212, which does not): ask the library instead of assuming, and report "skip" (never a
# pass) for Ed25519 signatures when it cannot check them.
my $has_ed25519 = defined Mail::DKIM::Signature->get_algorithm_class('ed25519-sha256');

$| = 1;
open my $m, '<', $manifest or die "$manifest: $!";
while (my $line = <$m>) {
    chomp $line;
    my ($label, $path, $check) = split /\t/, $line;
    next unless $check eq 'verify';
    if (!$has_ed25519 && $label =~ /^ed25519\./) {
        print join("\t", $label, $check, 'skip', "Mail::DKIM $Mail::DKIM::VERSION has no ed25519-sha256"), "\n";
        next;
    }
    my $dkim = Mail::DKIM::Verifier->new();
    open my $fh, '<:raw', $path or die "$path: $!";
    while (read($fh, my $chunk, 65536)) {
        $dkim->PRINT($chunk);    # the files already have CRLF line endings
    }
    close $fh;
    $dkim->CLOSE;
    my $result = $dkim->result // 'none';
    my $detail = $dkim->result_detail // '';
    print join("\t", $label, $check, $result eq 'pass' ? 'pass' : 'fail', $detail), "\n";
}
