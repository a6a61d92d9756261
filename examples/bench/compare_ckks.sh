#!/usr/bin/env bash
# Orion-RS CKKS vs OpenFHE vs Lattigo v6 (through orion-fhe), per operation,
# at Orion's ResNet parameters, one after the other on this machine.
#
#   examples/bench/compare_ckks.sh                 # top level, 1 and 2 threads
#   THREADS="1" LEVELS="top 5" REPS=31 examples/bench/compare_ckks.sh
#
# Env:
#   THREADS   thread counts to run (default "1 2"): rayon pool for ours,
#             OMP_NUM_THREADS for OpenFHE, GOMAXPROCS for Lattigo (whose
#             evaluator is single-threaded per operation anyway)
#   LEVELS    "top" and/or a level number (default "top")
#   REPS      repetitions per op (default 15; BSGS / polynomial: max(3, REPS/3))
#   PEERS     subset of "openfhe lattigo" (default both)
#   PY310     Python with `openfhe` (default python3.10; under pyenv, the
#             newest installed 3.10 through `pyenv prefix`)
#   PY311     Python with `orion-fhe` (default python3.11)
#   MAX_LOAD  wait (up to WAIT_TRIES x 30 s) before each run until the 1-min
#             load average is below this (default 2.5); the load is recorded
#             next to every figure either way
#   SKIP_BUILD=1  reuse target/release/examples/ckks_ops
#   OUT       directory for the raw logs (default: a temp dir, printed)
#
# Prints the raw output of every run, then one table per (level, threads):
# op, ours, OpenFHE, Lattigo (median ms, [load]), ours/OpenFHE, ours/Lattigo.
# See docs/bench-ckks.md for what is timed on each side.
set -euo pipefail

THREADS="${THREADS:-1 2}"
LEVELS="${LEVELS:-top}"
REPS="${REPS:-15}"
PEERS="${PEERS:-openfhe lattigo}"
if [[ -z "${PY310:-}" ]]; then
  PY310=python3.10
  # pyenv's shim refuses python3.10 unless that version is selected.
  if command -v pyenv >/dev/null && ! python3.10 -c '' 2>/dev/null; then
    v=$(pyenv versions --bare | grep '^3\.10\.' | tail -1)
    [[ -n "$v" ]] && PY310="$(pyenv prefix "$v")/bin/python"
  fi
fi
PY311="${PY311:-python3.11}"
MAX_LOAD="${MAX_LOAD:-2.5}"
WAIT_TRIES="${WAIT_TRIES:-10}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

echo "== machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), logs in $OUT"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== cargo build --release -p orion-ckks --example ckks_ops"
  cargo build --release -p orion-ckks --example ckks_ops
fi
OURS="$TARGET/release/examples/ckks_ops"

wait_load() {
  local i l
  for ((i = 0; i < WAIT_TRIES; i++)); do
    l=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$l" -v m="$MAX_LOAD" 'BEGIN{exit !(l < m)}'; then return 0; fi
    echo "   (load $l >= $MAX_LOAD, waiting 30 s)"
    sleep 30
  done
  echo "   (load still $(cut -d' ' -f1 /proc/loadavg); measuring anyway, the load is recorded)"
}

for lv in $LEVELS; do
  for th in $THREADS; do
    tag="L${lv}_T${th}"
    wait_load
    echo "== ours: ckks_ops --threads $th --level $lv --reps $REPS"
    "$OURS" --threads "$th" --level "$lv" --reps "$REPS" 2>&1 | tee "$OUT/ours_$tag.log"
    if [[ " $PEERS " == *" openfhe "* ]]; then
      wait_load
      echo "== OpenFHE: OMP_NUM_THREADS=$th ckks_peers.py --peer openfhe --level $lv"
      OMP_NUM_THREADS="$th" "$PY310" examples/bench/ckks_peers.py --peer openfhe --level "$lv" --reps "$REPS" 2>&1 \
        | tee "$OUT/openfhe_$tag.log" || echo "!! OpenFHE run failed"
    fi
    if [[ " $PEERS " == *" lattigo "* ]]; then
      wait_load
      echo "== Lattigo: GOMAXPROCS=$th ckks_peers.py --peer lattigo --level $lv"
      GOMAXPROCS="$th" "$PY311" examples/bench/ckks_peers.py --peer lattigo --level "$lv" --reps "$REPS" 2>&1 \
        | tee "$OUT/lattigo_$tag.log" || echo "!! Lattigo run failed"
    fi
  done
done

python3 - "$OUT" "$LEVELS" "$THREADS" <<'PY'
import os, re, sys

out, levels, threads = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
LINE = re.compile(r"^op (.+?)\s+median\s+(-?[0-9.]+) ms.*?load ([0-9.]+|nan)")
NA = re.compile(r"^op (.+?)\s+n/a")

def parse(path):
    d, order = {}, []
    if not os.path.exists(path):
        return d, order
    for line in open(path):
        m = LINE.match(line)
        if m:
            d[m.group(1).strip()] = (float(m.group(2)), m.group(3))
            order.append(m.group(1).strip())
        elif NA.match(line):
            d[NA.match(line).group(1).strip()] = None
            order.append(NA.match(line).group(1).strip())
    return d, order

def cell(x):
    return "n/a" if x is None else f"{x[0]:.2f} [{x[1]}]"

def ratio(a, b):
    if a is None or b is None or b[0] <= 0:
        return "-"
    return f"{a[0] / b[0]:.2f}"

for lv in levels:
    for th in threads:
        tag = f"L{lv}_T{th}"
        ours, order = parse(f"{out}/ours_{tag}.log")
        ofhe, o2 = parse(f"{out}/openfhe_{tag}.log")
        lat, o3 = parse(f"{out}/lattigo_{tag}.log")
        for o in o2 + o3:
            if o not in order:
                order.append(o)
        print(f"\n== level {lv}, {th} thread(s): median ms [1-min load at start of op]")
        print(f"| {'op':<30} | {'ours':>16} | {'OpenFHE':>16} | {'Lattigo':>16} | ours/OpenFHE | ours/Lattigo |")
        print(f"|{'-'*32}|{'-'*18}|{'-'*18}|{'-'*18}|-------------:|-------------:|")
        for op in order:
            a, b, c = ours.get(op), ofhe.get(op, None), lat.get(op, None)
            print(f"| {op:<30} | {cell(a):>16} | {cell(b):>16} | {cell(c):>16} | {ratio(a, b):>12} | {ratio(a, c):>12} |")
        for name, path in (("ours", f"ours_{tag}.log"), ("OpenFHE", f"openfhe_{tag}.log"), ("Lattigo", f"lattigo_{tag}.log")):
            p = f"{out}/{path}"
            if os.path.exists(p):
                for line in open(p):
                    if line.startswith("precision"):
                        print(f"   {name}: {line.strip()}")
PY
