#!/usr/bin/env bash
# A trained example encrypted end to end on its test images: compile with
# --lower-to-ckks at the resnet-bootstrapped parameters (2^15 slots,
# 128-bit secure; calibrated on test images 900..999, not the ones
# measured), run the original network in the clear (nn level) for
# reference classes, then the ckks program encrypted with --compare (the
# cleartext ckks interpreter with the same approximations: class, relative
# error and precision in bits per image), --labels and --profile.
#
#   examples/run_encrypted.sh resnet20|mobilenetv2|inception|resnet18-cifar [FIRST LAST]   # images FIRST..LAST-1, default 0 3
#
# Writes its logs to target/<name>-encrypted (OUT_DIR overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: examples/run_encrypted.sh resnet20|mobilenetv2|inception|resnet18-cifar [FIRST LAST]}
first=${2:-0}
last=${3:-3}
onnx=examples/$name/$name.onnx
case "$name" in
    resnet18-cifar)
        onnx=examples/$name/resnet18.onnx
        data=examples/data/fashion-test-1000
        shape=(--pad 2 --channels 3) ;;
    resnet20|mobilenetv2)
        data=examples/data/fashion-test-1000
        shape=(--pad 2 --channels 3) ;;
    inception)
        data=examples/data/mnist-test-1000
        shape=() ;;
    *) echo "unknown example '$name' (resnet20, mobilenetv2, inception or resnet18-cifar)" >&2; exit 2 ;;
esac
images=$data-images-idx3-ubyte
labels=$data-labels-idx1-ubyte
out=${OUT_DIR:-target/$name-encrypted}
mkdir -p "$out"

cargo build --release --bin orion-opt --bin orion-run
bin=${CARGO_TARGET_DIR:-target}/release

echo "==> compile (orion-opt --lower-to-ckks)"
/usr/bin/time -f "compile: %e s wall, peak RSS %M kB" \
    "$bin/orion-opt" --lower-to-ckks "$onnx" --params resnet-bootstrapped \
    --calibration "$images" "${shape[@]}" --calibration-skip 900 --calibration-samples 100 \
    --pass-statistics --stats="$out/stats.txt" -o "$out/$name.ckks.mlir" 2> "$out/compile.log"
grep -E "compile:|\(bootstraps\)|peak-live" "$out/compile.log"

echo "==> the original network in the clear (nn level)"
"$bin/orion-opt" --passes canonicalize "$onnx" -o "$out/$name.nn.mlir"
"$bin/orion-run" "$out/$name.nn.mlir" --input "$images" "${shape[@]}" --range "$first..$last" \
    --labels "$labels" | tee "$out/clear.log"

echo "==> encrypted (orion-run)"
"$bin/orion-run" "$out/$name.ckks.mlir" --input "$images" "${shape[@]}" --range "$first..$last" \
    --labels "$labels" --compare --profile --seed 1 | tee "$out/encrypted.log"

echo "==> classes: encrypted vs the original network in the clear"
paste <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/clear.log" | awk '{print $2, $NF}') \
      <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/encrypted.log" | awk '{print $NF}') |
    awk '{n++; if ($2 == $3) same++; printf "image %s clear %s encrypted %s\n", $1, $2, $3}
         END {printf "same class as the original network: %d/%d\n", same, n}'
