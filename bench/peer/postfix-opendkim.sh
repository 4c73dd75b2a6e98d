#!/usr/bin/env bash
# A private Postfix instance (+ OpenDKIM milter) on loopback, the peer Signet is measured against.
#
#   bench/peer/postfix-opendkim.sh start     # Postfix with the OpenDKIM milter (RSA-2048, relaxed/relaxed)
#   DKIM=0 bench/peer/postfix-opendkim.sh start   # Postfix alone, no signing
#   bench/peer/postfix-opendkim.sh stop      # stops what start started, by PID
#   bench/peer/postfix-opendkim.sh install   # only the Debian packages (postfix, opendkim, opendkim-tools)
#
# Environment (defaults): PEER_DIR (/var/lib/signet-peer; not under /tmp: OpenDKIM refuses a config path with a
# world-writable parent) holds config, queue, key, logs and PIDs;
# PEER_PORT (12525) Postfix's smtpd; SINK_PORT (12526) where Postfix relays everything (run smtp-sink there,
# e.g. with bench/load.sh); MILTER (unix: OpenDKIM on the socket $PEER_DIR/milter/opendkim.sock, as Debian sets it
# up; inet: on 127.0.0.1:MILTER_PORT, 12527, where Nagle's algorithm and delayed ACKs add about 90 ms to every
# message of a single session); DKIM (1); DKIM_DOMAIN (signet.test).
#
# It never touches the system's default Postfix instance (/etc/postfix, port 25): the instance runs with
# `postfix -c $PEER_DIR/etc`, its own queue and data directories, listening on 127.0.0.1 only. Postfix keeps its
# default durability (the cleanup daemon fsyncs each queue file before smtpd answers 250).
set -euo pipefail

PEER_DIR=${PEER_DIR:-/var/lib/signet-peer}
PEER_PORT=${PEER_PORT:-12525}
SINK_PORT=${SINK_PORT:-12526}
MILTER_PORT=${MILTER_PORT:-12527}
MILTER=${MILTER:-unix}
MILTER_SOCKET=$PEER_DIR/milter/opendkim.sock
DKIM=${DKIM:-1}
DKIM_DOMAIN=${DKIM_DOMAIN:-signet.test}
DKIM_SELECTOR=${DKIM_SELECTOR:-peer}

log() { echo "postfix-opendkim: $*" >&2; }

# Waits (at most $2 seconds) until something listens on 127.0.0.1:$1.
wait_listening() {
  local port=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    if ss -Hltn "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  log "nothing listens on 127.0.0.1:$port after ${limit}s"
  return 1
}

# Waits (at most $2 seconds) for PID $1 to exit; then SIGKILL.
stop_pid() {
  local pid=$1 limit=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid still running after ${limit}s, SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

install_packages() {
  local missing=()
  for pkg in postfix opendkim opendkim-tools; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  # "No configuration": the package installs binaries only, no /etc/postfix/main.cf and no running system instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  [[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]] || apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

write_opendkim() {
  local dir=$PEER_DIR/opendkim
  mkdir -p "$dir/keys"
  if [[ ! -f "$dir/keys/$DKIM_SELECTOR.private" ]]; then
    opendkim-genkey -b 2048 -h sha256 -d "$DKIM_DOMAIN" -s "$DKIM_SELECTOR" -D "$dir/keys"
  fi
  chown -R opendkim:opendkim "$dir"
  chmod 700 "$dir/keys"
  chmod 600 "$dir/keys/$DKIM_SELECTOR.private"
  cat > "$dir/opendkim.conf" <<EOF
# Signing only (Mode s), as a relay in front of the internet would be configured.
Syslog                  no
Mode                    s
Canonicalization        relaxed/relaxed
SignatureAlgorithm      rsa-sha256
Domain                  $DKIM_DOMAIN
Selector                $DKIM_SELECTOR
KeyFile                 $dir/keys/$DKIM_SELECTOR.private
OversignHeaders         From
InternalHosts           127.0.0.0/8
Socket                  $([[ $MILTER == inet ]] && echo "inet:$MILTER_PORT@127.0.0.1" || echo "local:$MILTER_SOCKET")
# The socket is for Postfix's smtpd (user postfix); the instance's directory is root's.
UMask                   000
UserID                  opendkim:opendkim
EOF
  mkdir -p "$PEER_DIR/milter"
  rm -f "$MILTER_SOCKET"
  chown opendkim:opendkim "$PEER_DIR/milter"
  chmod 755 "$PEER_DIR/milter"
}

write_postfix() {
  local etc=$PEER_DIR/etc
  mkdir -p "$etc" "$PEER_DIR/queue" "$PEER_DIR/data"
  chown postfix:postfix "$PEER_DIR/data"
  local milters=""
  if [[ $DKIM == 1 ]]; then
    milters="smtpd_milters = $([[ $MILTER == inet ]] && echo "inet:127.0.0.1:$MILTER_PORT" || echo "unix:$MILTER_SOCKET")
non_smtpd_milters = \$smtpd_milters
# A milter failure must not let unsigned mail through.
milter_default_action = tempfail
milter_protocol = 6"
  fi
  cat > "$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PEER_DIR/queue
data_directory = $PEER_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = peer.$DKIM_DOMAIN
mydomain = $DKIM_DOMAIN
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# No local delivery: every recipient is relayed to the sink.
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
# Loopback only, no DNS: no reverse lookups of clients, the relayhost is an address literal.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
biff = no
maillog_file = $PEER_DIR/maillog
maillog_file_prefixes = $PEER_DIR
$milters
EOF
  # Debian's master.cf without chroot (a chroot would need copies of system files in the queue directory).
  cat > "$etc/master.cf" <<EOF
127.0.0.1:$PEER_PORT inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n - - trivial-rewrite
bounce     unix  - - n - 0 bounce
defer      unix  - - n - 0 bounce
trace      unix  - - n - 0 bounce
verify     unix  - - n - 1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
smtp       unix  - - n - - smtp
relay      unix  - - n - - smtp
showq      unix  n - n - - showq
error      unix  - - n - - error
retry      unix  - - n - - error
discard    unix  - - n - - discard
anvil      unix  - - n - 1 anvil
scache     unix  - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
}

start() {
  install_packages
  if [[ -f $PEER_DIR/master.pid ]] && kill -0 "$(cat "$PEER_DIR/master.pid")" 2>/dev/null; then
    log "already running (master pid $(cat "$PEER_DIR/master.pid")); stop it first"
    return 1
  fi
  for port in "$PEER_PORT" $([[ $DKIM == 1 && $MILTER == inet ]] && echo "$MILTER_PORT"); do
    if ss -Hltn "sport = :$port" | grep -q .; then log "port $port is already in use"; return 1; fi
  done
  mkdir -p "$PEER_DIR"
  chmod 755 "$PEER_DIR"
  # A fresh queue every start, so one run's leftovers never count in the next.
  rm -rf "$PEER_DIR/queue" "$PEER_DIR/data" "$PEER_DIR/maillog"

  if [[ $DKIM == 1 ]]; then
    write_opendkim
    opendkim -f -x "$PEER_DIR/opendkim/opendkim.conf" > "$PEER_DIR/opendkim.log" 2>&1 &
    echo $! > "$PEER_DIR/opendkim.pid"
    if [[ $MILTER == inet ]]; then
      wait_listening "$MILTER_PORT" 20
    else
      for ((i = 0; i < 200; i++)); do [[ -S $MILTER_SOCKET ]] && break; sleep 0.1; done
      [[ -S $MILTER_SOCKET ]] || { log "OpenDKIM did not create $MILTER_SOCKET within 20 s"; return 1; }
    fi
  fi

  write_postfix
  postfix -c "$PEER_DIR/etc" check
  postfix -c "$PEER_DIR/etc" start
  wait_listening "$PEER_PORT" 30
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $PEER_DIR/queue/pid/master.pid ]] && break
    sleep 0.1
  done
  tr -d ' \n' < "$PEER_DIR/queue/pid/master.pid" > "$PEER_DIR/master.pid"
  log "Postfix $(postconf -c "$PEER_DIR/etc" -h mail_version) on 127.0.0.1:$PEER_PORT (master pid $(cat "$PEER_DIR/master.pid")), relaying to 127.0.0.1:$SINK_PORT$([[ $DKIM == 1 ]] && echo ", OpenDKIM milter on $([[ $MILTER == inet ]] && echo "127.0.0.1:$MILTER_PORT" || echo "$MILTER_SOCKET") signing d=$DKIM_DOMAIN s=$DKIM_SELECTOR (pid $(cat "$PEER_DIR/opendkim.pid"))")"
}

stop() {
  if [[ -f $PEER_DIR/master.pid ]]; then
    local master
    master=$(cat "$PEER_DIR/master.pid")
    if kill -0 "$master" 2>/dev/null; then
      postfix -c "$PEER_DIR/etc" stop 2>/dev/null || true
      stop_pid "$master" 20
    fi
    rm -f "$PEER_DIR/master.pid"
  fi
  if [[ -f $PEER_DIR/opendkim.pid ]]; then
    stop_pid "$(cat "$PEER_DIR/opendkim.pid")" 10
    rm -f "$PEER_DIR/opendkim.pid"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  install) install_packages ;;
  *) echo "usage: $0 start|stop|install   (DKIM=0 for Postfix alone; PEER_DIR, PEER_PORT, SINK_PORT, MILTER_PORT)" >&2; exit 2 ;;
esac
