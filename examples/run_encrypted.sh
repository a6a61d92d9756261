#!/usr/bin/env bash
# A trained example encrypted end to end on its test images: compile with
# --lower-to-ckks at the resnet-bootstrapped parameters (2^15 slots,
# 128-bit secure; calibrated on test images 900..999, not the ones
# measured), run the original network in the clear (nn level) for
# reference classes, then the ckks program encrypted with --compare (the
# cleartext ckks interpreter with the same approximations: class, relative
# error and precision in bits per image), --labels and --profile.
#
#   examples/run_encrypted.sh resnet20|mobilenetv2|inception|resnet18-cifar|resnet18-imagenet [FIRST LAST]
#
# Images FIRST..LAST-1, default 0 3. resnet18-imagenet takes its own
# inputs.npy (Fashion-MNIST test images 0..2 at 224x224; classes in its
# expected.json), is calibrated on its calibration.npy with a 25% margin,
# and runs within a 16000 MiB budget (keys held seeded) without --compare.
# Writes its logs to target/<name>-encrypted (OUT_DIR overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: examples/run_encrypted.sh resnet20|mobilenetv2|inception|resnet18-cifar|resnet18-imagenet [FIRST LAST]"
name=${1:?$usage}
first=${2:-0}
last=${3:-3}
onnx=examples/$name/$name.onnx
idx() {
    input=$1-images-idx3-ubyte
    labels=(--labels "$1-labels-idx1-ubyte")
    calibration=(--calibration "$input" "${shape[@]}" --calibration-skip 900 --calibration-samples 100)
}
run=(--compare)
case "$name" in
    resnet18-cifar)
        onnx=examples/$name/resnet18.onnx
        shape=(--pad 2 --channels 3)
        idx examples/data/fashion-test-1000 ;;
    resnet18-imagenet)
        onnx=examples/$name/resnet18.onnx
        shape=()
        input=examples/$name/inputs.npy
        labels=()
        calibration=(--calibration "examples/$name/calibration.npy" --calibration-margin 0.25)
        run=(--memory-budget 16000 --plaintext-cache-mib 256) ;;
    resnet20|mobilenetv2)
        shape=(--pad 2 --channels 3)
        idx examples/data/fashion-test-1000 ;;
    inception)
        shape=()
        idx examples/data/mnist-test-1000 ;;
    *) echo "unknown example '$name'; $usage" >&2; exit 2 ;;
esac
out=${OUT_DIR:-target/$name-encrypted}
mkdir -p "$out"

cargo build --release --bin orion-opt --bin orion-run
bin=${CARGO_TARGET_DIR:-target}/release

echo "==> compile (orion-opt --lower-to-ckks)"
/usr/bin/time -f "compile: %e s wall, peak RSS %M kB" \
    "$bin/orion-opt" --lower-to-ckks "$onnx" --params resnet-bootstrapped "${calibration[@]}" \
    --pass-statistics --stats="$out/stats.txt" -o "$out/$name.ckks.mlir" 2> "$out/compile.log"
grep -E "compile:|\(bootstraps\)|peak-live" "$out/compile.log"

echo "==> the original network in the clear (nn level)"
"$bin/orion-opt" --passes canonicalize "$onnx" -o "$out/$name.nn.mlir"
"$bin/orion-run" "$out/$name.nn.mlir" --input "$input" "${shape[@]}" --range "$first..$last" \
    "${labels[@]}" | tee "$out/clear.log"

echo "==> encrypted (orion-run)"
/usr/bin/time -f "encrypted: %e s wall, peak RSS %M kB" \
    "$bin/orion-run" "$out/$name.ckks.mlir" --input "$input" "${shape[@]}" --range "$first..$last" \
    "${labels[@]}" "${run[@]}" --profile --seed 1 2> "$out/encrypted.err" | tee "$out/encrypted.log"
grep -E "memory estimate|encrypted:" "$out/encrypted.err"

echo "==> classes: encrypted vs the original network in the clear"
paste <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/clear.log" | awk '{print $2, $NF}') \
      <(grep -o '^image [0-9]*: .* class [0-9]*' "$out/encrypted.log" | awk '{print $NF}') |
    awk '{n++; if ($2 == $3) same++; printf "image %s clear %s encrypted %s\n", $1, $2, $3}
         END {printf "same class as the original network: %d/%d\n", same, n}'
