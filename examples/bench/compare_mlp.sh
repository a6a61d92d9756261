#!/usr/bin/env bash
# Orion-RS vs Orion (orion-fhe, Python + Lattigo) on the MNIST MLP, same machine, one after the other.
#
#   examples/bench/compare_mlp.sh [K]        # K images (default 10), MNIST test images 0..K
#
# Env: PYTHON (default python3, needs `pip install orion-fhe onnx`), SKIP_BUILD=1 to reuse target/release.
# Prints both tools' raw output, then a table of medians (ms per image) and the ratio ours/Orion.
# See docs/bench-mlp.md for what exactly is timed on each side.
set -euo pipefail

K="${1:-10}"
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
IMAGES=examples/data/mnist-test-1000-images-idx3-ubyte

echo "== machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

# ---------------------------------------------------------------- ours
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== cargo build --release --bin orion-opt --bin orion-run"
  cargo build --release --bin orion-opt --bin orion-run
fi
echo "== orion-opt --lower-to-ckks examples/mnist-mlp/mlp.onnx"
t0=$(date +%s.%N)
target/release/orion-opt --lower-to-ckks examples/mnist-mlp/mlp.onnx -o "$TMP/mlp.ckks.mlir"
t1=$(date +%s.%N)
echo "compile (orion-opt, wall): $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)*1000}') ms"

echo "== orion-run (K=$K)"
ours_rc=0
target/release/orion-run "$TMP/mlp.ckks.mlir" --input "$IMAGES" --range "0..$K" --quiet 2>&1 | tee "$TMP/ours.log" \
  || ours_rc=$?
[[ $ours_rc -eq 0 ]] || echo "!! orion-run exited with status $ours_rc"

# ---------------------------------------------------------------- Orion
echo "== Orion (orion-fhe) examples/bench/orion_mlp.py -k $K"
"$PYTHON" examples/bench/orion_mlp.py -k "$K" 2>&1 | tee "$TMP/orion.log"

# ---------------------------------------------------------------- table
"$PYTHON" - "$TMP/ours.log" "$TMP/orion.log" "$K" <<'PY'
import re, sys

ours_log, orion_log, k = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
NUM = r"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"

def ours_medians(text):
    """Phase -> median ms from orion-run's lines that contain `median` and `ms`.
    Accepts e.g. `median evaluate: 512.3 ms`, `evaluate median 512.3 ms`,
    `median ms: encrypt 3.1, evaluate 512.3, total 520.0` and `median: encrypt 3.1 ms, total 520.0 ms`."""
    phases = {}
    for line in text.splitlines():
        low = line.lower()
        if "median" not in low or "ms" not in low:
            continue
        body = re.sub(r"\bmedians?\b", " ", low)
        body = re.sub(r"\(.*?\)", " ", body)           # drop "(min ..., max ...)" asides
        pairs = re.findall(r"([a-z][a-z_+/\-]*)\s*(?:[:=]\s*|\s+)" + NUM + r"\s*(?:ms\b)?", body)
        pairs = [(w, float(v)) for w, v in pairs if w not in ("ms", "k", "n", "images", "over", "of")]
        if not pairs:                                   # e.g. "evaluate ... median ... 512 ms"
            m = re.search(r"([a-z][a-z_+/\-]*)\b.*?" + NUM + r"\s*ms", body)
            if m:
                pairs = [(m.group(1), float(m.group(2)))]
        for w, v in pairs:
            phases.setdefault(w, v)
    return phases

def pick(phases, *names):
    for n in names:
        for w, v in phases.items():
            if w == n or w.startswith(n):
                return w, v
    return None, None

ours = ours_medians(ours_log)
m = re.search(r"ORION_MEDIAN_MS (.*)", orion_log)
orion = {k: float(v) for k, v in re.findall(r"(\w+)=" + NUM, m.group(1))} if m else {}

o_tot_name, o_tot = pick(ours, "total", "end-to-end", "e2e", "latency")
o_ev_name, o_ev = pick(ours, "evaluate", "eval", "inference")
o_enc_name, o_enc = pick(ours, "encrypt", "enc")
o_dec_name, o_dec = pick(ours, "decrypt", "dec")
o_kg_name, o_kg = pick(ours, "keygen")
tot_note = ""
if o_tot is None and None not in (o_enc, o_ev, o_dec):
    # orion-run prints `timings: keygen X ms (once); per image (median of K): encrypt A ms, evaluate B ms,
    # decrypt C ms` -- no total, so ours = sum of the per-phase medians (Orion's = median of per-image sums).
    o_tot, tot_note = o_enc + o_ev + o_dec, " *"

print()
print(f"MNIST MLP, K={k} images, median ms per image (same machine, run one after the other)")
print(f"{'phase':<34} {'ours (Orion-RS)':>16} {'Orion':>12} {'ours/Orion':>11}")
def row(label, a, b):
    fa = f"{a:.2f}" if a is not None else "n/a"
    fb = f"{b:.2f}" if b is not None else "n/a"
    r = f"{a / b:.3f}" if a is not None and b else "n/a"
    print(f"{label:<34} {fa:>16} {fb:>12} {r:>11}")
row("encrypt+eval+decrypt (total)" + tot_note, o_tot, orion.get("total"))
row("eval only", o_ev, orion.get("eval"))
row("encrypt (+encode)", o_enc, orion.get("enc"))
row("decrypt (+decode)", o_dec, orion.get("dec"))
fmt = lambda v: f"{v:.2f}" if v is not None else "n/a"
print(f"{'keygen, once':<34} {fmt(o_kg):>16} {fmt(orion.get('key')):>12}   "
      "(Orion: init_scheme; its compile, not counted here, adds rotation keys)")
if tot_note:
    print("* ours: sum of orion-run's per-phase medians; Orion: median of per-image encrypt+eval+decrypt")
if not ours:
    print("!! could not find a line with 'median' and 'ms' in orion-run's output (see above)")
else:
    print("ours, all median phases parsed: " + ", ".join(f"{w} {v:g}" for w, v in ours.items()))
if not orion:
    print("!! could not find ORION_MEDIAN_MS in orion_mlp.py's output")
PY
