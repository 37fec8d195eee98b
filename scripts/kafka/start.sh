#!/usr/bin/env bash
# Start a single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and CI, in the background.
#
#   bash scripts/kafka/start.sh [--fresh]
#
# Fetches the jars if needed (fetch.sh), writes <data dir>/server.properties, formats the storage once
# (kept across stop/start: no reformat while meta.properties exists), starts kafka.Kafka with a pid file and
# waits until a kafkajs admin client can describe the cluster. Exits 0 at once if our broker is already up.
#   --fresh   stop our broker if it runs and wipe the data dir first (new cluster id, no topics)
# Env: KAFKA_DATA_DIR (default <repo>/.cache/kafka/run), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
#      KAFKA_HEAP ("-Xms1g -Xmx1g"), KAFKA_JVM_OPTS (extra JVM flags, appended last), JAVA_HOME (else `java` on PATH),
#      KAFKA_START_TIMEOUT (seconds, 90), plus fetch.sh's KAFKA_VERSION / LOG4J_VERSION / KAFKA_CACHE_DIR.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}"
LIBS="$CACHE/libs"
DATA_DIR="${KAFKA_DATA_DIR:-$CACHE/run}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:--Xms1g -Xmx1g}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
FRESH=0

for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka:start: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

case "$DATA_DIR" in /*) ;; *) DATA_DIR="$PWD/$DATA_DIR" ;; esac
PIDFILE="$DATA_DIR/kafka.pid"
LOG_DIR="$DATA_DIR/data"
LOGS="$DATA_DIR/logs"
CONFIG="$DATA_DIR/server.properties"
OUT="$LOGS/kafka.out"
BROKER="127.0.0.1:$PORT"

say() { echo "kafka:start: $*" >&2; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
our_pid() { # prints the pid from the pid file if that process is alive and is our broker
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONFIG" || return 1
  echo "$pid"
}
ready() { # 0 when kafkajs (or, without node_modules, the broker log) says the broker is up
  port_open "$PORT" || return 1
  local rc=0
  node "$HERE/ready.cjs" "$BROKER" >/dev/null 2>&1 || rc=$?
  if [[ $rc == 3 ]]; then grep -q 'Kafka Server started' "$LOGS/server.log" 2>/dev/null; else return "$rc"; fi
}
show_logs() {
  for f in "$LOGS/server.log" "$OUT"; do
    # drop the multi-line config dump (tab-indented) so the tail shows what went wrong
    [[ -s "$f" ]] && { echo "---- tail of $f ----" >&2; grep -v $'^\t' "$f" | tail -n 40 >&2; }
  done
  return 0
}
wait_ready() { # $1 = pid
  local deadline=$((SECONDS + TIMEOUT))
  until ready; do
    if ! kill -0 "$1" 2>/dev/null; then
      say "broker process $1 exited during startup"
      show_logs
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "broker not ready after ${TIMEOUT} s"
      show_logs
      bash "$HERE/stop.sh" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# One start.sh at a time per data dir (the lock file sits next to it, so --fresh can wipe the dir).
mkdir -p "$(dirname "$DATA_DIR")"
if command -v flock >/dev/null; then
  exec 8>"${DATA_DIR%/}.start.lock"
  flock 8
fi

PORTS="port=$PORT controller=$CONTROLLER_PORT"
if pid="$(our_pid)"; then
  if ((FRESH)); then
    bash "$HERE/stop.sh"
  elif [[ -f "$DATA_DIR/ports" && "$(cat "$DATA_DIR/ports")" != "$PORTS" ]]; then
    say "our broker (pid $pid) already runs from $DATA_DIR with $(cat "$DATA_DIR/ports"), not $PORTS; stop.sh it first"
    exit 1
  else
    if ! ready; then say "broker (pid $pid) is starting; waiting..."; wait_ready "$pid"; fi
    say "already running (pid $pid) on $BROKER, data in $DATA_DIR"
    exit 0
  fi
fi

if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
  say "port $PORT or $CONTROLLER_PORT is in use by another process (not our pid file $PIDFILE)."
  say "Stop it, or use KAFKA_PORT / KAFKA_CONTROLLER_PORT, or point tests at it with KAFKA_BROKERS=$BROKER."
  exit 1
fi

if ((FRESH)); then
  case "$DATA_DIR" in "" | / | "$ROOT" | "$HOME") say "refusing to wipe '$DATA_DIR'"; exit 1 ;; esac
  rm -rf "$DATA_DIR"
fi

bash "$HERE/fetch.sh"

command -v "$JAVA" >/dev/null || { say "java not found (set JAVA_HOME or put Java 17+ on PATH)"; exit 1; }
java_major="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then say "Kafka 4 needs Java 17+, $JAVA is '${java_major:-unknown}'"; exit 1; fi

mkdir -p "$DATA_DIR" "$LOGS"
if [[ -f "$LOG_DIR/meta.properties" && -f "$DATA_DIR/ports" && "$(cat "$DATA_DIR/ports")" != "$PORTS" ]]; then
  say "$DATA_DIR was formatted with $(cat "$DATA_DIR/ports"), now asked for $PORTS; use --fresh or another KAFKA_DATA_DIR"
  exit 1
fi
sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@LOG_DIR@|$LOG_DIR|g" \
  "$HERE/server.properties.template" >"$CONFIG"

CP="$LIBS/*"
JVM_LOG=(-Dlog4j2.configurationFile="$HERE/log4j2.xml" -Dkafka.logs.dir="$LOGS")
if [[ ! -f "$LOG_DIR/meta.properties" ]]; then
  TOOL_LOG=("${JVM_LOG[@]}" -Dkafka.log.name=storage-tool)
  cluster_id="$("$JAVA" "${TOOL_LOG[@]}" -cp "$CP" kafka.tools.StorageTool random-uuid)"
  if ! "$JAVA" "${TOOL_LOG[@]}" -cp "$CP" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONFIG" >"$LOGS/format.log" 2>&1; then
    cat "$LOGS/format.log" >&2
    say "storage format failed"
    exit 1
  fi
  echo "$PORTS" >"$DATA_DIR/ports"
  say "formatted $LOG_DIR (cluster id $cluster_id)"
fi

# -XX:TieredStopAtLevel=1 (C1 JIT only): ~30-40% faster start on a 2-core box, which tests that restart the broker
# feel; peak throughput is lower. For soak/bench runs: KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=4 (the last flag wins).
# shellcheck disable=SC2206
JVM=($HEAP -server -XX:TieredStopAtLevel=1 -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
  "${JVM_LOG[@]}" ${KAFKA_JVM_OPTS:-})
started=$SECONDS
echo "==== $(date -u +%FT%TZ) start" >>"$OUT"
# New session (setsid), so Ctrl-C in the terminal or the end of an npm script does not take the broker down;
# the inner shell writes its own pid (= the java pid after exec) to the pid file.
launcher=()
command -v setsid >/dev/null && launcher=(setsid)
rm -f "$PIDFILE"
"${launcher[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
  "$JAVA" "${JVM[@]}" -cp "$CP" kafka.Kafka "$CONFIG" >>"$OUT" 2>&1 </dev/null 8>&- &
for _ in $(seq 50); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
pid="$(cat "$PIDFILE")"
say "started pid $pid, waiting for $BROKER (up to ${TIMEOUT} s)..."
wait_ready "$pid"
say "ready on $BROKER in $((SECONDS - started)) s (pid $pid, data $DATA_DIR, logs $LOGS/server.log)"
