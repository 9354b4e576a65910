#!/usr/bin/env bash
# Compares forecasting settings on the six pre-test cut-offs only (never the final test window
# 2023-06-03..06-30): for each subset and protocol, the mean over cut-offs of the mean and the
# median MASE. Extra arguments go to every `freshbot forecast eval`, e.g.
#   scripts/forecast-pretest.sh --with holt_winters_mul
# FRESHBOT (default target/release/freshbot) names the binary; D the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${FRESHBOT:-target/release/freshbot}"
D="${D:-../shared/data/forecast/veg_supermarket_cumcm2023}"
for f in sales_items31.csv sales_categories6.csv; do
  for h in "--horizon 28" "--horizon 7 --origins 4"; do
    for end in 2023-06-02 2023-05-05 2023-04-07 2023-03-10 2023-02-10 2022-12-30; do
      # shellcheck disable=SC2086
      "$bin" forecast eval --data "$D/$f" $h "$@" --end "$end" 2>/dev/null | tail -1
    done | python3 -c "
import json, sys
r = [json.loads(l) for l in sys.stdin if l.startswith('{')]
print('%-24s %-24s mean %.4f median %.4f' % ('$f', '$h',
      sum(x['mase'] for x in r) / len(r), sum(x['mase_median'] for x in r) / len(r)))"
  done
done
