#!/usr/bin/env bash
# Run every ledger, rules and workbench benchmark against one seeded database, logging
# to bench/results/<step>-<db>.log:
#   bash bench/run_all.sh sqlite:///bench/data/ledger.db
#   bash bench/run_all.sh postgresql://postgres@127.0.0.1:5432/salesdesk_bench
#   bash bench/run_all.sh URL homes reclaim            # some steps only
# performance (bench/performance_board.py) first adds to the seed what the board reads
# (a stage history, support requests, targets) when it is not there yet; it runs last.
# Seed first (bench/ledger_seed.py); keep the machine otherwise idle while this runs.
# Import, reclaim and claims work on throw-away copies (on PostgreSQL the copy needs no
# other session on the seed, so the steps run one after the other).
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:?database URL}"
shift
kind="${url%%:*}"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(list dedupe import export homes reclaim claims performance)
mkdir -p bench/results
py=.venv/bin/python
for step in "${steps[@]}"; do
  case "$step" in
    homes) module=workbench_homes ;;
    performance) module=performance_board ;;
    reclaim | claims) module="rules_$step" ;;
    *) module="ledger_$step" ;;
  esac
  echo "== $module on $kind"
  $py -m "bench.$module" --database-url "$url" 2>&1 | grep -v '^INFO' | tee "bench/results/$step-$kind.log"
done
