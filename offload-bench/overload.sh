#!/usr/bin/env bash
# The open-loop overload experiment of FailoverStrategy (README "Overload: failover and shedding,
# open loop"): builds the bench jar, then runs the three arms at 0.5, 1, 2 and 4 x C on loopback.
# Usage: offload-bench/overload.sh [measuredSecondsPerRun]   (default 5; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl offload-bench -am package -DskipTests
java -cp offload-bench/target/benchmarks.jar dev.offload.bench.overload.OverloadExperiment "${1:-5}"
