"""The Python path against orion-run on the MNIST MLP, on the same machine:
per-image encrypt, evaluate and decrypt medians over the same images (both
on keys made once), and the ratio. Also the wheel's import time.

    python python/bench/overhead.py [--images 50] [--rounds 3]

Needs orion_rs installed and target/release/orion-run built (or
ORION_BIN_DIR). Rounds alternate the two sides, so that a noisy machine
drifts on both."""

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "tests"))

t0 = time.perf_counter()
import orion_rs as orn  # noqa: E402

IMPORT_S = time.perf_counter() - t0

from conftest import IMAGES, mnist_images  # noqa: E402


def orion_run_medians(program_path, images, exe):
    out = subprocess.run(
        [str(exe), str(program_path), "--input", str(IMAGES), "--range", f"0..{images}", "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"encrypt ([\d.]+) ms, evaluate ([\d.]+) ms, decrypt ([\d.]+) ms", out)
    return tuple(float(v) for v in m.groups())


def python_medians(program, images):
    client = orn.Client(program)
    client.keygen(quiet=True)
    server = orn.Server(program, client.evaluation_keys())
    enc, ev, dec = [], [], []
    for x in mnist_images(0, images):
        t = time.perf_counter()
        ct = client.encrypt(x)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        out = server.evaluate(ct)
        ev.append(time.perf_counter() - t)
        t = time.perf_counter()
        client.decrypt(out)
        dec.append(time.perf_counter() - t)
    return tuple(1e3 * statistics.median(v) for v in (enc, ev, dec))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    exe = pathlib.Path(os.environ.get("ORION_BIN_DIR", ROOT / "target" / "release")) / "orion-run"
    program = orn.compile(ROOT / "examples" / "mnist-mlp" / "mlp.onnx", params="mnist-mlp")
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "mlp.ckks.mlir"
        program.save(path)
        ours, py = [], []
        for _ in range(args.rounds):
            ours.append(orion_run_medians(path, args.images, exe))
            py.append(python_medians(program, args.images))
    print(f"import orion_rs: {1e3 * IMPORT_S:.0f} ms")
    for name, rows in (("orion-run", ours), ("python", py)):
        for r in rows:
            print(f"{name:9} encrypt {r[0]:7.2f} ms  evaluate {r[1]:7.2f} ms  decrypt {r[2]:7.2f} ms  total {sum(r):7.2f} ms")
    total = lambda rows: statistics.median(sum(r) for r in rows)  # noqa: E731
    evaluate = lambda rows: statistics.median(r[1] for r in rows)  # noqa: E731
    print(
        f"median of {args.rounds} rounds of {args.images} images: total python / orion-run = "
        f"{total(py) / total(ours):.3f}, evaluate python / orion-run = {evaluate(py) / evaluate(ours):.3f}"
    )


if __name__ == "__main__":
    main()
