#!/usr/bin/env bash
# `npm run test:repeat -- N [--load]`: runs the whole suite N times in a row (default 5) after one
# build, prints one line per run and the failures, and exits non-zero if any run failed. With
# --load a busy loop keeps one core saturated for the whole time, as a second process on a shared
# 2-core machine would: flaky tests show up here before they cost a CI run.
set -u
cd "$(dirname "$0")/.."
n=5
load=0
for arg in "$@"; do
  case "$arg" in
    --load) load=1 ;;
    ''|*[!0-9]*) echo "usage: npm run test:repeat -- [N] [--load]" >&2; exit 2 ;;
    *) n=$arg ;;
  esac
done
npm run build >/dev/null || exit 1
busy=''
if ((load)); then
  node -e 'for (;;) {}' &
  busy=$!
  trap 'kill "$busy" 2>/dev/null' EXIT
fi
logs=$(mktemp -d "${TMPDIR:-/tmp}/wandbfs-repeat-XXXXXX")
failed=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  npm test >"$logs/run-$i.log" 2>&1
  rc=$?
  pass=$(grep -m1 '^# pass' "$logs/run-$i.log" | awk '{print $3}')
  fail=$(grep -m1 '^# fail' "$logs/run-$i.log" | awk '{print $3}')
  echo "run $i/$n: exit $rc, ${pass:-?} passed, ${fail:-?} failed, $(( $(date +%s) - start )) s (log: $logs/run-$i.log)"
  grep -E '^(    )*not ok' "$logs/run-$i.log" | sed 's/^/    /'
  ((rc == 0)) || failed=$((failed + 1))
done
echo "$((n - failed)) of $n runs passed$( ((load)) && echo ' (one core kept busy)')"
((failed == 0))
