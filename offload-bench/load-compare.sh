#!/usr/bin/env bash
# Side-by-side load comparison on loopback (see LoadComparison.java): an nginx backend (1 KiB),
# nginx proxy_pass as the reference, measured again between every two arms; offload on the JDK
# server, on Jetty and on Netty, a minimal JDK + OkHttp proxy and a minimal Netty proxy, each in a
# JVM of its own (CPU per request from /proc). Installs wrk and nginx from Debian packages when
# missing and builds the benchmark jar.
# Usage: offload-bench/load-compare.sh [seconds-per-run] [rounds]   (full: also the
#          pass-through wrappers and static content; JDK 17, and Temurin 25 with JDK25=1)
#        offload-bench/load-compare.sh quick   (forwarding arms only, JDK 17, 3 rounds, about
#          3 minutes; its last line: netty_forward_vs_nginx=.. jdk_forward_vs_minimal=..
#          netty_added_p50_us=..)
# Extra JVM options for every arm's JVM: ARM_JVM_ARGS='-XX:StartFlightRecording=filename=/tmp/{arm}.jfr'
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
if [ "${1:-}" = quick ]; then
  mode=quick
  set -- 2 3
fi
seconds=${1:-5}
rounds=${2:-3}
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null || true
  fi
fi
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { echo "nginx is required (apt-get install nginx-light)"; exit 1; }
mvn -B -q -pl offload-bench -am package -DskipTests -Dmaven.javadoc.skip=true
jar=offload-bench/target/benchmarks.jar
run() { # java, virtual threads?
  echo "== $("$1" -version 2>&1 | head -1), virtual threads: $2"
  "$1" -Xms128m -Xmx128m -Doffload.bench.virtualThreads="$2" \
    -Doffload.bench.armJvmArgs="${ARM_JVM_ARGS:-}" -cp "$jar" \
    dev.offload.bench.load.LoadComparison "$seconds" "$rounds" "$mode"
}
if [ "$mode" = full ] && [ "${JDK25:-0}" = 1 ]; then
  jdk25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  run "$jdk25" false
  run "$jdk25" true
fi
run java false
