#!/usr/bin/env bash
# Band gaps as users model them (issue 22), on the three seeded splits of the perovskites: the metal/non-metal classifier,
# the gap regressed on the non-metals alone, that regressor on every crystal (for the two-stage value), then the table.
# Usage: bench/band-gap.sh RUNS_DIR [CGCNN_RESULTS_DIR] [extra train options for the classifier]
# The split files are the ones `train --seed S` draws (written by a one-epoch run), so the CGCNN driver can use the same.
set -eu
runs=${1:?usage: bench/band-gap.sh RUNS_DIR [CGCNN_RESULTS_DIR]}
cgcnn=${2:-}
shift $(( $# < 2 ? $# : 2 ))
root=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$root/../shared/data/perovskites/perovskites.csv}
cli=${CLI:-dotnet $root/src/Cli/bin/Release/net10.0/sagatsr.dll}
mkdir -p "$runs"
for s in 1 2 3; do
  split=$runs/split$s.csv
  if [ ! -f "$split" ]; then
    $cli train "$data" --target dir_gap --epochs 1 --members 1 --seed $s --out "$runs/split-s$s" > /dev/null 2>&1
    awk -F, 'NR > 1 { print $1 "," $2 }' "$runs/split-s$s/predictions.csv" > "$split"
  fi
  $cli train "$data" --target dir_gap --task classify --threshold 0 --split-file "$split" --seed $s --out "$runs/cls-s$s" "$@" > "$runs/cls-s$s.log" 2>&1
  $cli train "$data" --target dir_gap --where "dir_gap > 0" --split-file "$split" --seed $s --out "$runs/gap-s$s" > "$runs/gap-s$s.log" 2>&1
  $cli predict "$runs/gap-s$s/model.sagat" "$data" --out "$runs/gap-s$s/all.csv" 2> /dev/null
done
dotnet run -c Release --project "$root/bench/SaGatSr.Bench" -- compare band-gap --runs "$runs" --data "$data" ${cgcnn:+--cgcnn "$cgcnn"}
