#!/usr/bin/env bash
# Fetch the jars of a single-node Apache Kafka broker (KRaft) from Maven Central into .cache/kafka/libs.
#
#   bash scripts/kafka/fetch.sh            # idempotent: a no-op when the same versions are already fetched
#
# Needs only Java 17+ and Maven on PATH (no tarball download, no Docker). Env overrides:
#   KAFKA_VERSION (default 4.1.2), LOG4J_VERSION (default 2.24.3), KAFKA_CACHE_DIR (default <repo>/.cache/kafka),
#   MAVEN_ARGS (extra args for mvn, e.g. "-Dmaven.repo.local=/ci/m2" or "-s settings.xml").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"
CACHE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}"
LIBS="$CACHE/libs"
MARKER="$LIBS/.fetched"
WANT="kafka=$KAFKA_VERSION log4j=$LOG4J_VERSION pom=$(cksum <"$HERE/pom.xml" | cut -d' ' -f1)"

fetched() { [[ -f "$MARKER" && "$(cat "$MARKER")" == "$WANT" && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; }

if fetched; then
  exit 0
fi

command -v mvn >/dev/null || { echo "kafka:fetch: Maven (mvn) is not on PATH" >&2; exit 1; }

mkdir -p "$CACHE"
# Serialise concurrent fetches (e.g. two shells running start.sh at once).
if command -v flock >/dev/null; then
  exec 9>"$CACHE/.fetch.lock"
  flock 9
  if fetched; then exit 0; fi
fi

echo "kafka:fetch: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION + log4j $LOG4J_VERSION from Maven Central..." >&2
started=$SECONDS
WORK="$CACHE/.fetch.$$"
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
# Run Maven on a copy of the pom inside the cache so nothing (target/) is written into the source tree.
cp "$HERE/pom.xml" "$WORK/pom.xml"
# shellcheck disable=SC2086
if ! mvn -B -q -Dstyle.color=never ${MAVEN_ARGS:-} -f "$WORK/pom.xml" \
  -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$WORK/libs" >"$WORK/mvn.log" 2>&1; then
  cat "$WORK/mvn.log" >&2
  echo "kafka:fetch: mvn failed (see above)" >&2
  exit 1
fi
[[ -f "$WORK/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || { echo "kafka:fetch: kafka_2.13-$KAFKA_VERSION.jar missing after mvn" >&2; exit 1; }
echo "$WANT" >"$WORK/libs/.fetched"
rm -rf "$LIBS"
mv "$WORK/libs" "$LIBS"
echo "kafka:fetch: $(ls "$LIBS"/*.jar | wc -l) jars in $LIBS ($((SECONDS - started)) s)" >&2
