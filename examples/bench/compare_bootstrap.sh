#!/usr/bin/env bash
# Bootstrapping at LogN 16, 2^15 slots: ours (both DFT strategies) and
# Lattigo v6 through orion-fhe, one after the other on this machine, then
# the ratios ours / Lattigo for the bootstrap time (median), the key
# generation time and the peak memory.
#
#     examples/bench/compare_bootstrap.sh            # REPS=3, real values
#     REPS=5 PYTHON=python3.11 examples/bench/compare_bootstrap.sh
#
# Needs about 11 GB for ours (BSGS), 3 GB (chained), 22 GB for Lattigo:
# run it when nothing else large is running. Inputs are real values in
# [-1, 1] on both sides (Orion's bindings only pass reals).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-3}
PYTHON=${PYTHON:-python3.11}
OUT=${OUT:-$(mktemp -d)}

cargo build --release -p orion-runtime --example bootstrap_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bootstrap_bench

echo "== ours, BSGS DFT (load $(cut -d' ' -f1 /proc/loadavg))"
"$BIN" --real --quiet --reps "$REPS" | tee "$OUT/bsgs.txt"
echo "== ours, chained DFT (load $(cut -d' ' -f1 /proc/loadavg))"
"$BIN" --real --quiet --chained --reps "$REPS" | tee "$OUT/chained.txt"
echo "== Lattigo v6 via orion-fhe (load $(cut -d' ' -f1 /proc/loadavg))"
"$PYTHON" examples/bench/lattigo_bootstrap.py --reps "$REPS" | tee "$OUT/lattigo.txt"

# field NAME FILE: the number after NAME on the summary line.
field() { grep 'summary:' "$2" | sed -E "s/.*$1 ([0-9.]+).*/\1/"; }
lat_t=$(field "bootstrap median" "$OUT/lattigo.txt")
lat_k=$(field "keygen" "$OUT/lattigo.txt")
lat_m=$(field "peak RSS" "$OUT/lattigo.txt")
echo
printf '%-10s %12s %10s %12s %10s %12s %10s\n' "" "bootstrap s" "/Lattigo" "keygen s" "/Lattigo" "peak MB" "/Lattigo"
for which in bsgs chained; do
  t=$(field "bootstrap median" "$OUT/$which.txt")
  k=$(field "keygen" "$OUT/$which.txt")
  m=$(field "peak RSS" "$OUT/$which.txt")
  printf '%-10s %12s %10.2f %12s %10.2f %12s %10.2f\n' "$which" "$t" \
    "$(echo "$t / $lat_t" | bc -l)" "$k" "$(echo "$k / $lat_k" | bc -l)" "$m" "$(echo "$m / $lat_m" | bc -l)"
done
printf '%-10s %12s %10s %12s %10s %12s %10s\n' "lattigo" "$lat_t" "1" "$lat_k" "1" "$lat_m" "1"
echo "(raw outputs in $OUT)"
