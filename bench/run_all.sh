#!/usr/bin/env bash
# Run every ledger benchmark against one seeded database, logging to bench/results/.
#   bash bench/run_all.sh sqlite:///bench/data/ledger.db
#   bash bench/run_all.sh postgresql://postgres@127.0.0.1:5432/salesdesk_bench
# Seed first (bench/ledger_seed.py); keep the machine otherwise idle while this runs.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:?database URL}"
kind="${url%%:*}"
mkdir -p bench/results
py=.venv/bin/python
for step in list dedupe import export; do
  echo "== ledger_$step on $kind"
  $py -m "bench.ledger_$step" --database-url "$url" 2>&1 | grep -v '^INFO' | tee "bench/results/$step-$kind.log"
done
