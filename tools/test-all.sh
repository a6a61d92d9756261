#!/usr/bin/env bash
# The Orion-RS test command: build, unit/integration tests, lit tests.
#
#   tools/test-all.sh              # build + cargo test + lit + the Python package's pytest
#   tools/test-all.sh --lint       # also cargo fmt --check and clippy -D warnings
#   tools/test-all.sh --no-python  # without the Python package and the S3 test (no venv)
#
# Needs FileCheck/not/count (Debian: llvm-19-tools), mlir-opt-19
# (mlir-19-tools) and lit (`pip install lit`, else the copy llvm-19-tools ships);
# the Python step makes a venv in target/python-venv and pip-installs maturin,
# numpy and pytest there, then moto (an S3-compatible server for orion-serve's
# key-store test).
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."

lint=0
python=1
for arg in "$@"; do
    case "$arg" in
        --lint) lint=1 ;;
        --no-python) python=0 ;;
        -h | --help)
            sed -n '2,12p' "$0"
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
for dep in orion-dialects orion-compiler orion-runtime orion-tools orion-python; do forbid orion-ckks "$dep"; done
for dep in orion-ckks orion-compiler orion-runtime orion-tools orion-python; do forbid orion-dialects "$dep"; done
for dep in orion-ckks orion-runtime orion-tools orion-python; do forbid orion-compiler "$dep"; done
for dep in orion-compiler orion-tools orion-python orion-serve; do forbid orion-runtime "$dep"; done
forbid orion-python orion-tools
for dep in orion-compiler orion-tools orion-python; do forbid orion-serve "$dep"; done
echo "ok"

# The Python extension module is built by maturin (below): linked as a plain
# cdylib it would need libpython.
step "cargo build --release --workspace"
cargo build --release --workspace --exclude orion-python

step "cargo test --release --workspace"
ORION_REQUIRE_MLIR_OPT=1 cargo test --release --workspace --exclude orion-python

step "lit -v tests/lit"
ORION_REQUIRE_MLIR_OPT=1 ORION_BIN_DIR="${ORION_BIN_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/release}" \
    "${lit_cmd[@]}" -v tests/lit

if [[ $python == 1 ]]; then
    step "python: maturin build, pytest"
    venv="${CARGO_TARGET_DIR:-$PWD/target}/python-venv"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet maturin numpy pytest </dev/null
    wheels="${CARGO_TARGET_DIR:-$PWD/target}/wheels"
    rm -rf "$wheels"
    "$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -o "$wheels"
    "$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheels"/orion_rs-*.whl
    ORION_BIN_DIR="${ORION_BIN_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/release}" \
        "$venv/bin/python" -m pytest -q python/tests

    step "orion-serve on an S3-compatible key store (moto's server on loopback)"
    "$venv/bin/pip" install --quiet "moto[server]" </dev/null
    port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$venv/bin/moto_server" -p "$port" >/dev/null 2>&1 &
    moto=$!
    trap 'kill $moto 2>/dev/null || true' EXIT
    export AWS_ENDPOINT="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test ORION_TEST_S3_BUCKET=orion-keys
    "$venv/bin/python" - <<'PY'
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT"], region_name="us-east-1")
for attempt in range(100):
    try:
        s3.create_bucket(Bucket=os.environ["ORION_TEST_S3_BUCKET"])
        break
    except Exception:
        time.sleep(0.1)
else:
    raise SystemExit("moto's S3 server did not start")
PY
    cargo test --release -p orion-serve --test s3 -- --ignored
    kill "$moto" 2>/dev/null || true
    trap - EXIT
fi

# Lints last, so that a formatting slip does not hide test results.
if [[ $lint == 1 ]]; then
    step "cargo fmt --all --check"
    cargo fmt --all --check
    step "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --release --workspace --all-targets -- -D warnings
fi

step "all checks passed"
