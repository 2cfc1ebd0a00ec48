#!/usr/bin/env bash
# Side-by-side load comparison on loopback (see LoadComparison.java): backend direct, our
# gateway, nginx proxy_pass, and the host handler alone vs wrapped. Installs wrk and nginx from
# Debian packages when missing, builds the benchmark jar, then runs on JDK 17 and, if present,
# on Temurin 25. Usage: offload-bench/load-compare.sh [seconds-per-arm] [rounds]
#        offload-bench/load-compare.sh quick   (forwarding arms only, JDK 17, 3 rounds x 3 s,
#        about 3 minutes; its last line: netty_forward_vs_nginx=.. jdk_forward_vs_minimal=..
#        netty_added_p50_us=..)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
if [ "${1:-}" = quick ]; then
  mode=quick
  set -- 3 3
fi
seconds=${1:-5}
rounds=${2:-5}
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null || true
  fi
fi
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
mvn -B -q -pl offload-bench -am package -DskipTests -Dmaven.javadoc.skip=true
jar=offload-bench/target/benchmarks.jar
run() { # java, virtual threads?
  echo "== $("$1" -version 2>&1 | head -1), virtual threads: $2"
  "$1" -Xms512m -Xmx512m -Doffload.bench.virtualThreads="$2" -cp "$jar" \
    dev.offload.bench.load.LoadComparison "$seconds" "$rounds" "$mode"
}
run java false
[ "$mode" = quick ] && exit 0
jdk25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
if [ -x "$jdk25" ]; then
  run "$jdk25" false
  run "$jdk25" true
fi
