#!/usr/bin/env bash
# Builds the fuzz targets (cargo-fuzz on stable: RUSTC_BOOTSTRAP=1, no
# sanitizer) and runs each for SECONDS (default 60) on its seed corpus; new
# inputs go to a scratch directory, not into the committed corpus. A finding
# (a crash, a panic, an assertion) fails the script and leaves the input
# under fuzz/artifacts/. Prints libFuzzer's last status line per target
# (executions, coverage).
#
#   fuzz/run.sh [SECONDS]        # needs `cargo install cargo-fuzz`
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
root=..
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

RUSTC_BOOTSTRAP=1 cargo fuzz build -s none -O

run() { # target, max_len, seed directories...
    local target=$1 max_len=$2
    shift 2
    mkdir -p "$scratch/$target"
    echo "==> fuzz $target for ${seconds}s"
    RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O "$target" "$scratch/$target" "$@" -- \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 2>&1 | grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)|stat::number_of_executed_units|stat::peak_rss|==ERROR|panicked|SUMMARY" | tail -4
}

run ir_roundtrip 65536 "$root/tests/lit/inputs" "$root/dialects/tests/inputs" "$root/tests/lit/inputs/bad"
run onnx_import 1200000 "$root/examples/mnist-mlp" "$root/examples/mnist-relu-mlp" "$root/examples/mnist-lenet5" "$root/tests/lit/inputs/bad-onnx" "$root/tests/lit/inputs/activations" "$root/tests/lit/inputs/conv1d" "$root/tests/lit/inputs/pad" "$root/tests/lit/inputs/maxpool" "$root/tests/lit/inputs/concat" "$root/examples/inception"
run key_files 262144 corpus/key_files
run serve_requests 262144 corpus/serve_requests
