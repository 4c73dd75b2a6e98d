# Sourced by the scripts that run one `signet serve` and check it from outside (.ci/smoke-relay.sh,
# .ci/promtool-metrics.sh, bench/suites/hostile.sh, memory.sh, disk-full.sh): the jar, java, a work
# directory, PID tracking with cleanup on exit, ok/fail counting, free loopback ports, and starting
# and stopping the relay. Before sourcing, set -euo pipefail; $1 is the jar (default target/signet.jar).
#
# After sourcing: $jar $java $py $work (the current directory; removed on exit unless KEEP=1),
# $smtp $metrics $closed (free loopback ports: submission, metrics, one nobody listens on), and
#   relay_config SELECTOR [--tls] [--user NAME PASSWORD] [--deferred DNS_PORT]
#                        makes a DKIM key for example.com (keys/; its DNS record in record.txt) and writes
#                        signet.yaml: hostname ($hostname, default relay.example.com), the listener, the
#                        key directory, the spool ($work/spool), metrics, the admin API (port 0), relaying
#                        for 127.0.0.1/32; --tls adds a self-signed certificate (tls.crt, tls.key) for
#                        STARTTLS, --user a users file with NAME (sending for example.com), --deferred a
#                        delivery that stays on loopback and fails (DNS from 127.0.0.1:DNS_PORT, MX port
#                        $closed), retried after an hour, so accepted mail stays in the spool. The script
#                        appends its own keys to signet.yaml.
#   start_relay [OPT..]  runs `java OPT.. -jar $jar serve --config signet.yaml` (output: serve.log), sets
#                        $relay, and waits up to a minute for /healthz; prints serve.log and exits if not
#   start_relay_with CMD..  the same with CMD.. in place of `java OPT.. -jar $jar` (e.g. `./signet`)
#   stop_relay           stops it and waits for it
#   ok / fail TEXT       count and print a result;   summary NAME   prints the counts, fails if any failed
#   on_exit CMD          one more cleanup step (run before the work directory is removed)
jar="$(readlink -f "${1:-target/signet.jar}")"
[ -n "${JAVA_HOME:-}" ] || [ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
py=/usr/bin/python3
work="$(mktemp -d)"; echo "work dir: $work"
pids=()
relay=
exit_steps=()
on_exit() { exit_steps+=("$1"); }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for step in "${exit_steps[@]}"; do eval "$step" || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
summary() { echo "$1: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

relay_config() {
  local selector="$1"; shift
  local name="${hostname:-relay.example.com}" tls="" users="" deferred=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --tls) tls=yes; shift ;;
      --user)
        printf '%s\n' "$3" | "$java" -jar "$jar" user add "$2" --domains example.com --users users --password-stdin >/dev/null
        users="  users: $work/users"; shift 3 ;;
      --deferred) deferred="$2"; shift 2 ;;
      *) echo "relay_config: unknown option $1" >&2; exit 2 ;;
    esac
  done
  "$java" -jar "$jar" keygen --domain example.com --selector "$selector" --keys keys > record.txt 2>/dev/null
  cat > signet.yaml <<YAML
hostname: $name
listen:
  submission: 127.0.0.1:$smtp
dkim:
  keys: $work/keys
spool:
  dir: $work/spool
metrics:
  listen: 127.0.0.1:$metrics
admin:
  listen: 127.0.0.1:0
clients:
  networks: [127.0.0.1/32]
${users}
YAML
  if [ -n "$tls" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 2 -subj "/CN=$name" >/dev/null 2>&1
    printf 'tls:\n  certificate: %s\n  key: %s\n' "$work/tls.crt" "$work/tls.key" >> signet.yaml
  fi
  if [ -n "$deferred" ]; then
    printf 'delivery:\n  dns: [127.0.0.1:%s]\n  port: %s\n  retry: [1h]\n' "$deferred" "$closed" >> signet.yaml
  fi
}

start_relay() { start_relay_with "$java" "$@" -jar "$jar"; }

# start_relay_with CMD..: the same, with CMD.. in place of `java OPT.. -jar $jar` (e.g. the launcher)
start_relay_with() {
  "$@" serve --config signet.yaml > serve.log 2>&1 &
  relay=$!; pids+=("$relay")
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$metrics/healthz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$metrics/healthz" >/dev/null || { cat serve.log; echo "relay did not start"; exit 1; }
}

stop_relay() {
  kill "$relay" 2>/dev/null || true
  wait "$relay" 2>/dev/null || true
  local p rest=()
  for p in "${pids[@]}"; do [ "$p" = "$relay" ] || rest+=("$p"); done
  pids=("${rest[@]}")
}

cd "$work"
smtp=$(free_port); metrics=$(free_port); closed=$(free_port)
