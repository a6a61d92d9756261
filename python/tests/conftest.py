"""Shared fixtures: the repository's example models and MNIST test images,
and the orion-run binary to compare against (ORION_BIN_DIR, else
target/release)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import orion_rs as orn

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
IMAGES = EXAMPLES / "data" / "mnist-test-1000-images-idx3-ubyte"


def mnist_images(first: int, count: int) -> np.ndarray:
    """IDX3 images first..first+count, normalised as the examples were
    trained (and as orion-run reads them): (p / 255 - 0.1307) / 0.3081,
    shaped (count, 1, 1, 28, 28)."""
    raw = IMAGES.read_bytes()
    n, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (4, 8, 12))
    assert first + count <= n
    px = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows, cols)
    x = (px[first : first + count].astype(np.float64) / 255.0 - 0.1307) / 0.3081
    return x.reshape(count, 1, 1, rows, cols)


def orion_run() -> pathlib.Path:
    bin_dir = pathlib.Path(os.environ.get("ORION_BIN_DIR", ROOT / "target" / "release"))
    exe = bin_dir / "orion-run"
    if not exe.exists():
        pytest.fail(f"{exe} not found: build the tools (cargo build --release) or set ORION_BIN_DIR")
    return exe


def orion_run_classes(program: orn.Program, tmp_path: pathlib.Path, count: int) -> list[int]:
    """The classes `orion-run` prints for images 0..count of the MNIST
    test file, running the same compiled program encrypted."""
    path = tmp_path / "program.ckks.mlir"
    program.save(path)
    out = subprocess.run(
        [str(orion_run()), str(path), "--input", str(IMAGES), "--range", f"0..{count}", "--seed", "3", "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    classes = [int(line.rsplit(" class ", 1)[1].split()[0]) for line in out.splitlines() if line.startswith("image ")]
    assert len(classes) == count, out
    return classes


@pytest.fixture(scope="session")
def mlp() -> orn.Program:
    return orn.compile(EXAMPLES / "mnist-mlp" / "mlp.onnx", params="mnist-mlp")


@pytest.fixture(scope="session")
def mlp_keys(mlp):
    client = orn.Client(mlp)
    client.keygen(seed=1, quiet=True)
    return client
