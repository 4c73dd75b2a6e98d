# Sourced by bench/crash-submission.sh and bench/crash-delivery.sh: finds java and a python3 with
# dkimpy, builds target/signet.jar if missing, makes a work directory with an RSA-2048 key for
# example.com (selector "crash"), picks a random loopback port range, and runs the python driver so
# that an exit or a signal stops it (and, through it, the relay) and removes the work directory
# (kept on failure or with KEEP=1, and its path printed).
#
# After sourcing: $java $python $work $port (port .. port+2 are the suite's) $pubkey (base64 DER), and
# $work/signet.yaml with the settings both suites share (port+1: metrics). Then: append the suite's
# delivery section to $work/signet.yaml and call   run_driver bench/DRIVER.py [ARGS...]
name="$(basename "$0" .sh)"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[ -x "$java" ] || java=java
python=/usr/bin/python3
"$python" -c 'import dkim' 2>/dev/null || python=python3
"$python" -c 'import dkim' || { echo "$name: needs dkimpy (apt-get install python3-dkim)" >&2; exit 2; }
[ -f target/signet.jar ] || mvn -q -B package -DskipTests

work="$(mktemp -d /tmp/signet-crash.XXXXXX)"
driver_pid=
cleanup() {
  local rc=$?
  [ -z "$driver_pid" ] || kill "$driver_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ] || [ -n "${KEEP:-}" ]; then echo "$name: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$work/keys/example.com"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/keys/example.com/crash.pem" 2>/dev/null
chmod 600 "$work/keys/example.com/crash.pem"
pubkey="$(openssl pkey -in "$work/keys/example.com/crash.pem" -pubout -outform DER | base64 -w0)"
# Three consecutive ports below the kernel's ephemeral range: the relay is restarted many times on the same port
# while thousands of client connections come and go, and a client socket given the listen port as its local
# (ephemeral) port while the relay is down would make the next start fail with "Address already in use".
ephemeral_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
(( ephemeral_low > 12000 )) || ephemeral_low=32768 # a range moved this low leaves no room below it; take the default
for _ in $(seq 1 50); do
  port=$((10000 + RANDOM % (ephemeral_low - 10000 - 3)))
  ss -Htan "( sport >= :$port and sport <= :$((port + 2)) )" | grep -q . || break
done
cat > "$work/signet.yaml" <<YAML
hostname: crash.test
listen:
  submission: 127.0.0.1:$port
dkim:
  keys: $work/keys
spool:
  dir: $work/spool
metrics:
  listen: 127.0.0.1:$((port + 1))
admin:
  listen: 127.0.0.1:0
YAML

# run_driver SCRIPT [MORE ARGS]: the driver with the arguments crashkit.arguments() defines (KILLS and
# CLIENTS from $kills and $clients), in the background so that the traps above fire at once on a signal.
run_driver() {
  local script="$1"; shift
  "$python" "$script" --java "$java" --jar target/signet.jar --config "$work/signet.yaml" --spool "$work/spool" \
    --port "$port" --pubkey "$pubkey" --kills "$kills" --clients "$clients" --log "$work/relay.log" "$@" &
  driver_pid=$!
  local rc=0
  wait "$driver_pid" || rc=$?
  driver_pid=
  return "$rc"
}
