#!/usr/bin/env bash
# Bootstrapping at LogN 16: ours (BSGS and chained DFT) and Lattigo v6
# through orion-fhe, one after the other on this machine, for each slot
# count (2^15: all slots; 2^14: the sparse set ResNet-20 uses), then the
# ratios ours / Lattigo for the bootstrap time (median), the key generation
# time and the peak memory.
#
#     examples/bench/compare_bootstrap.sh                       # REPS=3, LOG_SLOTS="15 14"
#     REPS=5 LOG_SLOTS=14 STRATEGIES=bsgs examples/bench/compare_bootstrap.sh
#
# Needs about 10 GB for ours (BSGS), 4 GB (chained), 22 GB for Lattigo at
# 2^15 slots: run it when nothing else large is running. Inputs are real
# values in [-1, 1] on both sides (Orion's bindings only pass reals).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-3}
LOG_SLOTS=${LOG_SLOTS:-15 14}
STRATEGIES=${STRATEGIES:-bsgs chained}
PYTHON=${PYTHON:-python3.11}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

cargo build --release -p orion-ckks --example bootstrap_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bootstrap_bench

load() { cut -d' ' -f1 /proc/loadavg; }
# field NAME FILE: the number after NAME on the summary line.
field() { grep 'summary:' "$2" | sed -E "s/.*$1 ([0-9.]+).*/\1/"; }

for ls in $LOG_SLOTS; do
  for which in $STRATEGIES; do
    flag=""
    [[ $which == chained ]] && flag="--chained"
    echo "== 2^$ls slots, ours, $which DFT (load $(load))"
    "$BIN" --real --quiet --log-slots "$ls" --reps "$REPS" $flag | tee "$OUT/$which-$ls.txt"
  done
  echo "== 2^$ls slots, Lattigo v6 via orion-fhe (load $(load))"
  "$PYTHON" examples/bench/lattigo_bootstrap.py --reps "$REPS" --log-slots "$ls" | tee "$OUT/lattigo-$ls.txt"
done

echo
printf '%-8s %-10s %12s %10s %12s %10s %12s %10s\n' slots "" "bootstrap s" "/Lattigo" "keygen s" "/Lattigo" "peak MB" "/Lattigo"
for ls in $LOG_SLOTS; do
  lat="$OUT/lattigo-$ls.txt"
  lat_t=$(field "bootstrap median" "$lat")
  lat_k=$(field "keygen" "$lat")
  lat_m=$(field "peak RSS" "$lat")
  for which in $STRATEGIES; do
    f="$OUT/$which-$ls.txt"
    t=$(field "bootstrap median" "$f")
    k=$(field "keygen" "$f")
    m=$(field "peak RSS" "$f")
    printf '%-8s %-10s %12s %10.2f %12s %10.2f %12s %10.2f\n' "2^$ls" "$which" "$t" \
      "$(echo "$t / $lat_t" | bc -l)" "$k" "$(echo "$k / $lat_k" | bc -l)" "$m" "$(echo "$m / $lat_m" | bc -l)"
  done
  printf '%-8s %-10s %12s %10s %12s %10s %12s %10s\n' "2^$ls" lattigo "$lat_t" 1 "$lat_k" 1 "$lat_m" 1
done
echo "(raw outputs in $OUT)"
