#!/usr/bin/env bash
# Stop the Kafka broker started by scripts/kafka/start.sh (and only that one: found via its pid file).
# SIGTERM (controlled shutdown, data kept), wait up to KAFKA_STOP_TIMEOUT (30) s, then SIGKILL. Exit 0 if not running.
# Env: KAFKA_DATA_DIR, KAFKA_CACHE_DIR, KAFKA_STOP_TIMEOUT, as for start.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}"
DATA_DIR="${KAFKA_DATA_DIR:-$CACHE/run}"
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$PWD/$DATA_DIR" ;; esac
PIDFILE="$DATA_DIR/kafka.pid"
CONFIG="$DATA_DIR/server.properties"
TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

say() { echo "kafka:stop: $*" >&2; }

pid="$(cat "$PIDFILE" 2>/dev/null || true)"
if [[ ! "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
  rm -f "$PIDFILE"
  say "not running"
  exit 0
fi
# Never signal a recycled pid: it must still be the broker we started with this data dir's config.
if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONFIG"; then
  say "pid $pid in $PIDFILE is not our broker any more; removing the stale pid file"
  rm -f "$PIDFILE"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
  say "pid $pid still up after ${TIMEOUT} s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
rm -f "$PIDFILE"
say "stopped (pid $pid)"
