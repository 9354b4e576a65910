#!/usr/bin/env bash
# Scores one classifier setting on the NLU validation splits only (never on a test split):
# CLINC150 / CAIS / SMP2019 `valid.tsv`, and Banking77 dev splits cut from its train set by
# scripts/nlu-dev-splits.py (seeded 90/10 splits s77 and s78, and 5-fold CV cv0..cv4).
#
# Usage: scripts/nlu-valid.sh NAME SPLITS -- [nlu eval flags...]
#   SPLITS: comma-separated subset of b77,b78,bcv,clinc,cais,smp (or "all")
# Env: FRESHBOT (binary, default ./target/debug/freshbot), DATA (../shared/data/nlu),
#      DEV (dir of the Banking77 dev splits, default /tmp/nluexp), OUT (results file, appended).
set -euo pipefail
name=$1; splits=$2; shift 2
[ "${1:-}" = "--" ] && shift
bin=${FRESHBOT:-./target/debug/freshbot}
data=${DATA:-../shared/data/nlu}
dev=${DEV:-/tmp/nluexp}
out=${OUT:-/dev/stdout}
[ "$splits" = all ] && splits=b77,b78,bcv,clinc,cais,smp
[ -f "$dev/banking77-s77-dev.tsv" ] || python3 "$(dirname "$0")/nlu-dev-splits.py" "$data" "$dev"
run() { # split-name train dev
  local line
  line=$(nice -n 10 "$bin" nlu eval --train "$2" --test "$3" "${flags[@]}" | tail -1)
  echo "{\"variant\":\"$name\",\"split\":\"$1\",\"flags\":\"${flags[*]}\",\"result\":$line}" >>"$out"
}
flags=("$@")
IFS=, read -ra want <<<"$splits"
for s in "${want[@]}"; do
  case $s in
    b77) run b77 "$dev/banking77-s77-train.tsv" "$dev/banking77-s77-dev.tsv" ;;
    b78) run b78 "$dev/banking77-s78-train.tsv" "$dev/banking77-s78-dev.tsv" ;;
    bcv) for f in 0 1 2 3 4; do run "bcv$f" "$dev/banking77-cv$f-train.tsv" "$dev/banking77-cv$f-dev.tsv"; done ;;
    clinc) run clinc "$data/clinc150/train.tsv" "$data/clinc150/valid.tsv" ;;
    cais) run cais "$data/cais/train.tsv" "$data/cais/valid.tsv" ;;
    smp) run smp "$data/smp2019/train.tsv" "$data/smp2019/valid.tsv" ;;
    *) echo "unknown split $s" >&2; exit 2 ;;
  esac
done
