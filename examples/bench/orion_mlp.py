#!/usr/bin/env python3
"""Orion (orion-fhe on PyPI, Python + Lattigo/Go) encrypted MNIST MLP latency, per image.

Reproduces Orion's own MLP example (examples/run_mlp.py + configs/mlp.yml of
github.com/baahl-nyu/orion) on K real MNIST test images, with OUR trained weights
(examples/mnist-mlp/mlp.onnx) loaded into Orion's `orion.models.MLP`
(Flatten, Linear(784,128), BatchNorm1d, Quad, Linear(128,128), BatchNorm1d, Quad, Linear(128,10)).

CKKS parameters = Orion's configs/mlp.yml: LogN 13, LogQ [29, 26 x5], LogP [29, 29], LogScale 26,
H 8192, RingType ConjugateInvariant, hybrid embedding, BN fused, io_mode none (keys/diagonals in memory).

Timed (time.perf_counter), once:   init_scheme (CKKS context + sk/pk/relin keys),
                                   fit (cleartext range stats), compile (diagonals, rotation keys,
                                   level assignment, plaintext encoding of weights)
Timed per image:                   encode+encrypt | eval (= what Orion's run_mlp.py times) | decrypt+decode
                                   total = the sum of the three.

Usage: python3 examples/bench/orion_mlp.py [-k 10] [--start 0] [--random-weights]
The last line is machine-readable:  ORION_MEDIAN_MS total=<ms> eval=<ms> enc= dec= key= compile=
"""
import argparse
import contextlib
import io
import math
import os
import statistics
import struct
import sys
import time
from importlib.metadata import version

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    assert magic >> 8 == 0x08, f"{path}: not a ubyte IDX file"
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_images(path, start, k):
    x = read_idx(path)[start:start + k].astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(x[:, None, :, :].astype(np.float32))  # [k,1,28,28]


def orion_config():
    # Orion's configs/mlp.yml (upstream HEAD), with io_mode none so nothing is read from/written to disk.
    return {
        "ckks_params": {
            "LogN": 13,
            "LogQ": [29, 26, 26, 26, 26, 26],
            "LogP": [29, 29],
            "LogScale": 26,
            "H": 8192,
            "RingType": "ConjugateInvariant",
        },
        "orion": {
            "margin": 2,
            "embedding_method": "hybrid",
            "backend": "lattigo",
            "fuse_modules": True,
            "debug": False,
            "diags_path": "",
            "keys_path": "",
            "io_mode": "none",
        },
    }


def load_onnx_weights(net, onnx_path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(onnx_path)
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    sd = net.state_dict()
    loaded = []
    for name in sd:
        if name in inits:
            assert tuple(sd[name].shape) == tuple(inits[name].shape), (name, sd[name].shape, inits[name].shape)
            sd[name] = inits[name].to(sd[name].dtype)
            loaded.append(name)
    missing = [n for n in sd if n not in inits and not n.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"ONNX lacks initializers for {missing}")
    net.load_state_dict(sd)
    return loaded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", "--k", type=int, default=10, help="number of images (default 10)")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--images", default=os.path.join(ROOT, "examples/data/mnist-test-1000-images-idx3-ubyte"))
    ap.add_argument("--labels", default=os.path.join(ROOT, "examples/data/mnist-test-1000-labels-idx1-ubyte"))
    ap.add_argument("--onnx", default=os.path.join(ROOT, "examples/mnist-mlp/mlp.onnx"))
    ap.add_argument("--random-weights", action="store_true", help="keep Orion's random init instead of our ONNX weights")
    ap.add_argument("--verbose", action="store_true", help="show Orion's own compile log")
    args = ap.parse_args()

    torch.manual_seed(42)
    import orion
    import orion.models as models

    x = load_images(args.images, args.start, args.k)
    labels = read_idx(args.labels)[args.start:args.start + args.k].astype(int).tolist()
    def quiet():  # hide Orion's compile log (stdout) and tqdm bars (stderr) unless --verbose
        if args.verbose:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        return stack

    t0 = time.perf_counter()
    with quiet():
        orion.init_scheme(orion_config())
    t_init = time.perf_counter() - t0

    net = models.MLP()
    if args.random_weights:
        weights = "random (torch.manual_seed(42), Orion default init)"
    else:
        load_onnx_weights(net, args.onnx)
        weights = f"ours ({os.path.relpath(args.onnx, ROOT)} initializers)"
    net.eval()
    with torch.no_grad():
        clear = torch.cat([net(x[i:i + 1]) for i in range(args.k)])  # cleartext reference logits

    # fit on the same images as a batch-1 DataLoader (Orion raises the batch to 128 for stats, then restores 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(args.k)), batch_size=1)
    t0 = time.perf_counter()
    with quiet():
        orion.fit(net, loader)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    with quiet():
        input_level = orion.compile(net)
    t_compile = time.perf_counter() - t0
    net.he()

    print(f"orion-fhe {version('orion-fhe')} MNIST MLP, K={args.k} images from #{args.start}, weights: {weights}")
    print(f"CKKS: LogN 13, LogQ [29,26x5], LogP [29,29], LogScale 26, ConjugateInvariant; input level {input_level}; "
          f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")
    print(f"setup (once): init_scheme/keygen {t_init * 1e3:.1f} ms, fit {t_fit * 1e3:.1f} ms, "
          f"compile {t_compile * 1e3:.1f} ms, total {(t_init + t_fit + t_compile) * 1e3:.1f} ms")
    print("per image (wall, perf_counter): enc = encode+encrypt, eval = net(ctxt) (what Orion's run_mlp.py times), "
          "dec = decrypt+decode, total = enc+eval+dec; cpu = process CPU time of total, all threads")
    print(f"{'img':>4} {'label':>5} {'clear':>5} {'fhe':>4} {'enc ms':>9} {'eval ms':>9} {'dec ms':>9} {'total ms':>9} {'cpu ms':>9} {'max|err|':>9}")

    encs, evals, decs, tots, errs, preds, maes, cpus = [], [], [], [], [], [], [], []
    for i in range(args.k):
        inp = x[i:i + 1]
        c0 = time.process_time()
        t0 = time.perf_counter()
        ctxt = orion.encrypt(orion.encode(inp, input_level))
        t1 = time.perf_counter()
        out_ctxt = net(ctxt)
        t2 = time.perf_counter()
        out = out_ctxt.decrypt().decode()
        t3 = time.perf_counter()
        cpus.append(time.process_time() - c0)
        out = torch.as_tensor(out).reshape(-1)[:10].float()
        err = float((out - clear[i]).abs().max())
        pred, cpred = int(out.argmax()), int(clear[i].argmax())
        encs.append(t1 - t0); evals.append(t2 - t1); decs.append(t3 - t2); tots.append(t3 - t0)
        errs.append(err); preds.append(pred); maes.append(float((out - clear[i]).abs().mean()))
        print(f"{args.start + i:>4} {labels[i]:>5} {cpred:>5} {pred:>4} {(t1 - t0) * 1e3:>9.2f} {(t2 - t1) * 1e3:>9.2f} "
              f"{(t3 - t2) * 1e3:>9.2f} {(t3 - t0) * 1e3:>9.2f} {cpus[-1] * 1e3:>9.2f} {err:>9.2e}", flush=True)

    med = lambda v: statistics.median(v) * 1e3
    correct = sum(p == l for p, l in zip(preds, labels))
    agree = sum(p == int(c.argmax()) for p, c in zip(preds, clear))
    print(f"median ms: encode+encrypt {med(encs):.2f}, eval {med(evals):.2f}, decrypt+decode {med(decs):.2f}, "
          f"total {med(tots):.2f}, process cpu time (all threads) {med(cpus):.2f}  (min total {min(tots) * 1e3:.2f}, max total {max(tots) * 1e3:.2f})")
    print(f"predictions: {preds}; labels {labels}; correct {correct}/{args.k}; agree with cleartext {agree}/{args.k}")
    mae = statistics.mean(maes)
    print(f"vs cleartext logits: MAE {mae:.4e}, Orion's 'Precision' -log2(MAE) {-math.log2(max(mae, 1e-30)):.2f} bits; "
          f"max |fhe - clear| {max(errs):.3e}")
    print(f"ORION_MEDIAN_MS total={med(tots):.3f} eval={med(evals):.3f} enc={med(encs):.3f} dec={med(decs):.3f} "
          f"key={t_init * 1e3:.3f} compile={t_compile * 1e3:.3f}")


if __name__ == "__main__":
    main()
