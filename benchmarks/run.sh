#!/usr/bin/env bash
# Comparison benchmarks for cookiesession: see BENCHMARKS.md at the repository root.
#
#   bash benchmarks/run.sh            full run: COUNT interleaved rounds, benchstat, ratio table
#   QUICK=1 bash benchmarks/run.sh    CI regression guard: every benchmark once with
#   bash benchmarks/run.sh --quick    -benchtime=100x -count=1, no benchstat
#
# Environment: COUNT (rounds, default 6), BENCHTIME (default 0.5s), BENCH (a
# -bench pattern, default .), OUT (results file, default out/results-DATE.txt).
#
# The machine is small and noisy, so the suite is run as COUNT rounds of the
# whole list, one after another (not -count=N, which runs each benchmark N
# times in a row): every benchmark sees the same spread of noise, and the
# table compares medians from this one run. Timings are never pass/fail;
# only a benchmark that fails to build or run fails this script.
set -euo pipefail
cd "$(dirname "$0")"

QUICK=${QUICK:-0}
for arg in "$@"; do
  case $arg in
    --quick|-quick) QUICK=1 ;;
    *) echo "usage: [QUICK=1] [COUNT=6] [BENCHTIME=0.5s] [BENCH=.] $0 [--quick]" >&2; exit 2 ;;
  esac
done
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-0.5s}
BENCH=${BENCH:-.}
if [ "$QUICK" = 1 ]; then
  COUNT=1
  BENCHTIME=100x
fi

mkdir -p out
OUT=${OUT:-out/results-$(date +%Y%m%d-%H%M%S).txt}
: >"$OUT"

echo "== building the benchmark binary"
go build -o out/ratios ./cmd/ratios
go test -c -o out/bench.test .

if [ "$QUICK" = 1 ]; then
  # The sanity test (the floor and securecookie open the lib's cookies) too.
  run=(-test.run='^TestHarness$')
else
  run=(-test.run='^$')
fi

{
  echo "# $(go version); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
  echo "# COUNT=$COUNT BENCHTIME=$BENCHTIME BENCH=$BENCH"
  echo "# library: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C .. diff --quiet HEAD -- '*.go' 2>/dev/null || echo ' (with uncommitted changes)')"
} >>"$OUT"
for round in $(seq 1 "$COUNT"); do
  # The load average says how much else the machine was doing: on a
  # 2-core machine anything much above 2 makes even the ratios shaky.
  msg="round $round of $COUNT (benchtime $BENCHTIME; loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "== $msg"
  echo "# $msg" >>"$OUT"
  ./out/bench.test "${run[@]}" -test.bench="$BENCH" -test.benchtime="$BENCHTIME" \
    -test.count=1 -test.benchmem | tee -a "$OUT"
  run=(-test.run='^$')
done
echo "== results in benchmarks/$OUT"

if [ "$QUICK" = 1 ]; then
  ./out/ratios -quick "$OUT"
  exit 0
fi

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/benchstat" ]; then
  echo "== installing benchstat"
  GOBIN="$gobin" go install golang.org/x/perf/cmd/benchstat@latest ||
    echo "benchstat could not be installed; the ratio table below does not need it" >&2
fi
if [ -x "$gobin/benchstat" ]; then
  echo "== benchstat"
  "$gobin/benchstat" "$OUT"
fi

echo
echo "== ratios (medians of this run)"
./out/ratios "$OUT"
