#!/usr/bin/env bash
# ResNet-20 encrypted end to end on Fashion-MNIST test images (issue 5):
# compile with --lower-to-ckks (calibrated on images 900..999, not the ones
# measured), run the original network in the clear (nn level, BatchNorm
# folded) for reference classes, then run the ckks program encrypted with
# --compare (the cleartext ckks interpreter, same approximations: class,
# relative error and precision in bits per image), --labels and --profile.
#
#   examples/resnet20/run_encrypted.sh [FIRST LAST]   # images FIRST..LAST-1, default 0 10
#
# Needs ~15 GB of memory and about 5 minutes per image on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
first=${1:-0}
last=${2:-10}
out=${OUT_DIR:-target/resnet20-encrypted}
mkdir -p "$out"
images=examples/data/fashion-test-1000-images-idx3-ubyte
labels=examples/data/fashion-test-1000-labels-idx1-ubyte
shape=(--pad 2 --channels 3)

cargo build --release --bin orion-opt --bin orion-run
bin=${CARGO_TARGET_DIR:-target}/release

echo "==> compile (orion-opt --lower-to-ckks)"
/usr/bin/time -f "compile: %e s wall, peak RSS %M kB" \
    "$bin/orion-opt" --lower-to-ckks examples/resnet20/resnet20.onnx --params resnet-bootstrapped \
    --calibration "$images" "${shape[@]}" --calibration-skip 900 --calibration-samples 100 \
    --pass-statistics -o "$out/resnet20.ckks.mlir" 2> "$out/compile.log"
grep -E "compile:|\(bootstraps\)|peak-live" "$out/compile.log"

echo "==> the original network in the clear (nn level)"
"$bin/orion-opt" --passes canonicalize examples/resnet20/resnet20.onnx -o "$out/resnet20.nn.mlir"
"$bin/orion-run" "$out/resnet20.nn.mlir" --input "$images" "${shape[@]}" --range "$first..$last" \
    --labels "$labels" | tee "$out/clear.log"

echo "==> encrypted (orion-run)"
"$bin/orion-run" "$out/resnet20.ckks.mlir" --input "$images" "${shape[@]}" --range "$first..$last" \
    --labels "$labels" --compare --profile --seed 1 | tee "$out/encrypted.log"

echo "==> classes: encrypted vs the original network in the clear"
paste <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/clear.log" | awk '{print $2, $NF}') \
      <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/encrypted.log" | awk '{print $NF}') |
    awk '{n++; if ($2 == $3) same++; printf "image %s clear %s encrypted %s\n", $1, $2, $3}
         END {printf "same class as the original network: %d/%d\n", same, n}'
