#!/usr/bin/env python3
"""ResNet-18 with the ImageNet topology (3x224x224 input, 7x7 stride-2 stem, 3x3 stride-2 max pool, four
stages 64/128/256/512, 1000 outputs), made without ImageNet, and exported to ONNX. Not part of any test path.

No package ships ImageNet, and training this network on two cores is out of reach, so:
  1. every conv is He-initialised (normal, fan-out, seed 42), as torchvision initialises an untrained one;
  2. BatchNorm statistics come from train-mode passes over 256 Fashion-MNIST training images upscaled to
     224x224 (bilinear) and repeated over 3 channels: each BN then normalises what it really sees, so
     every ReLU input is about zero-mean and unit-variance, as in a trained network;
  3. the classifier is a linear probe on the frozen 512 features, trained (Adam, cross-entropy over all 1000
     outputs) on 2000 such images: outputs 0..9 are the Fashion-MNIST classes, 10..999 are never the label
     and learn to stay low.
So the network computes ImageNet-sized features that are random but well-scaled, and its argmax is a
Fashion-MNIST class with the probe's accuracy (in expected.json). Its shapes, op counts and value ranges
are those of a real ResNet-18; its accuracy is not ImageNet's.

Writes resnet18.onnx (TorchScript exporter, BatchNormalization kept), calibration.npy (8 test images
1000..1007, float32 [8,3,224,224]), inputs.npy (test images 0..2), expected.json (logits of inputs.npy,
probe accuracy, settings).

Usage (from the repo root; data from `apt-get install dataset-fashion-mnist`):
    pip install torch onnx onnxruntime numpy
    python3 examples/resnet18-imagenet/make.py          # about 5 minutes on two cores
"""
import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import data, export, recipe, training  # noqa: E402
from common.resnet import ResNet18  # noqa: E402

SIZE = 224


def upscale(x):
    """float32 [N,1,28,28] (normalised) -> float32 [N,3,224,224], bilinear, the channel repeated."""
    y = F.interpolate(torch.from_numpy(x), size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return y.repeat(1, 3, 1, 1).numpy().astype(np.float32)


def he_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


@torch.no_grad()
def batchnorm_statistics(model, x, batch):
    """Running mean/var of every BN as the plain average over x's batches (momentum None), train mode."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for i in range(0, len(x), batch):
        model(torch.from_numpy(x[i:i + batch]))
    model.eval()


@torch.no_grad()
def features(model, x, batch=16):
    feats = model.net[:-1]
    return torch.cat([feats(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)])


def train_probe(fc, f, y, steps, lr):
    opt = torch.optim.Adam(fc.parameters(), lr=lr)
    y = torch.from_numpy(y)
    for _ in range(steps):
        loss = F.cross_entropy(fc(f), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bn-images", type=int, default=256)
    ap.add_argument("--probe-images", type=int, default=2000)
    ap.add_argument("--test-images", type=int, default=500)
    ap.add_argument("--out-dir", default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data.load_train_test(recipe.FASHION_DIR)
    t0 = time.time()

    model = ResNet18(classes=1000, imagenet_stem=True)
    he_init(model)
    print(f"resnet18-imagenet: {sum(p.numel() for p in model.parameters())} parameters")
    perm = np.random.default_rng(args.seed).permutation(len(x_train))
    bn_idx, probe_idx = perm[:args.bn_images], perm[args.bn_images:args.bn_images + args.probe_images]
    batchnorm_statistics(model, upscale(x_train[bn_idx]), batch=32)
    print(f"BN statistics from {args.bn_images} images ({time.time() - t0:.0f} s)", flush=True)

    f_train = features(model, upscale(x_train[probe_idx]))
    x_eval = upscale(x_test[:args.test_images])
    f_test = features(model, x_eval)
    print(f"features of {len(f_train)} + {len(f_test)} images ({time.time() - t0:.0f} s)", flush=True)
    fc = model.net[-1]
    loss = train_probe(fc, f_train, y_train[probe_idx], steps=300, lr=1e-2)
    with torch.no_grad():
        probe_test = fc(f_test).numpy()
    acc = training.accuracy(probe_test, y_test[:args.test_images])
    print(f"probe: loss {loss:.3f}, accuracy on test images 0..{args.test_images - 1}: {acc * 100:.1f}%")

    model.eval()
    inputs, calibration = x_eval[:3], upscale(x_test[1000:1008])
    onnx_path = os.path.join(args.out_dir, "resnet18.onnx")
    export.export_torchscript(model, torch.from_numpy(inputs[:1]), onnx_path)
    logits = training.predict(model, inputs, batch=3)
    export.check_onnx(onnx_path)
    ort = export.onnxruntime_logits(onnx_path, inputs)
    diff = float(np.abs(ort - logits).max() / np.abs(logits).max())
    print(f"onnxruntime vs PyTorch on inputs.npy: {diff:.2e} of the largest logit")
    assert diff < 1e-4 and (ort.argmax(1) == logits.argmax(1)).all(), "ONNX/PyTorch mismatch"
    np.save(os.path.join(args.out_dir, "inputs.npy"), inputs)
    np.save(os.path.join(args.out_dir, "calibration.npy"), calibration)
    training.write_json(os.path.join(args.out_dir, "expected.json"), {
        "model": os.path.basename(onnx_path),
        "input": "Fashion-MNIST test images 0..2, normalised as " + data.NORMALIZATION +
                 ", bilinear to 224x224, repeated over 3 channels",
        "labels": y_test[:3].tolist(),
        "predictions": logits.argmax(1).tolist(),
        "top_logits": [[round(float(v), 6) for v in row[:10]] for row in logits],
        "max_abs_logit": round(float(np.abs(logits).max()), 4),
        "probe_accuracy": {f"test_0_{args.test_images - 1}": acc},
        "onnxruntime_vs_pytorch_relative": diff,
        "settings": {"seed": args.seed, "bn_images": args.bn_images, "probe_images": args.probe_images,
                     "probe": "Adam lr 1e-2, 300 full-batch steps", "threads": args.threads,
                     "wall_seconds": round(time.time() - t0)},
        "versions": export.versions(),
    })
    print(f"wrote {onnx_path}, inputs.npy, calibration.npy, expected.json ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
