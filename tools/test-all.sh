#!/usr/bin/env bash
# The Orion-RS test command: build, unit/integration tests, lit tests.
#
#   tools/test-all.sh          # build + cargo test + lit
#   tools/test-all.sh --lint   # also cargo fmt --check and clippy -D warnings
#
# Needs FileCheck/not/count (Debian: llvm-19-tools), mlir-opt-19
# (mlir-19-tools) and lit (`pip install lit`, else the copy llvm-19-tools ships).
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."

lint=0
for arg in "$@"; do
    case "$arg" in
        --lint) lint=1 ;;
        -h | --help)
            sed -n '2,9p' "$0"
            exit 0
            ;;
        *)
            echo "test-all.sh: unknown argument '$arg'" >&2
            exit 2
            ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }

# lit: $LIT, else `lit` on PATH, else the python module, else llvm-19-tools' copy.
if [[ -n "${LIT:-}" ]]; then
    read -r -a lit_cmd <<<"$LIT"
elif command -v lit >/dev/null 2>&1; then
    lit_cmd=(lit)
elif python3 -c 'import lit' >/dev/null 2>&1; then
    lit_cmd=(python3 -m lit)
elif [[ -f /usr/lib/llvm-19/build/utils/lit/lit.py ]]; then
    lit_cmd=(python3 /usr/lib/llvm-19/build/utils/lit/lit.py)
else
    echo "test-all.sh: lit not found (pip install lit, or apt-get install llvm-19-tools)" >&2
    exit 1
fi

# The crate graph of docs/architecture.md: what each crate may not depend on.
step "crate dependency rules"
forbid() { # crate, forbidden dependency
    if cargo tree -q -p "$1" -e normal,build --prefix none | grep -q "^$2 "; then
        echo "test-all.sh: $1 depends on $2 (see docs/architecture.md)" >&2
        exit 1
    fi
}
for dep in orion-dialects orion-compiler orion-runtime orion-tools; do forbid orion-ckks "$dep"; done
for dep in orion-ckks orion-compiler orion-runtime orion-tools; do forbid orion-dialects "$dep"; done
for dep in orion-ckks orion-runtime orion-tools; do forbid orion-compiler "$dep"; done
for dep in orion-compiler orion-tools; do forbid orion-runtime "$dep"; done
echo "ok"

step "cargo build --release --workspace"
cargo build --release --workspace

step "cargo test --release --workspace"
ORION_REQUIRE_MLIR_OPT=1 cargo test --release --workspace

step "lit -v tests/lit"
ORION_REQUIRE_MLIR_OPT=1 ORION_BIN_DIR="${ORION_BIN_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/release}" \
    "${lit_cmd[@]}" -v tests/lit

# Lints last, so that a formatting slip does not hide test results.
if [[ $lint == 1 ]]; then
    step "cargo fmt --all --check"
    cargo fmt --all --check
    step "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --release --workspace --all-targets -- -D warnings
fi

step "all checks passed"
