#!/usr/bin/env python3
"""Train ResNet-20 (CIFAR-10 topology) on Fashion-MNIST padded to 3x32x32 and export it to ONNX.

NOT part of any test path: this script is only for regenerating the committed artifacts
    resnet20.onnx          the trained network (opset 17, TorchScript exporter, input `input` [1,3,32,32],
                           output `logits` [1,10], BatchNormalization kept as separate nodes)
    resnet20-dynamo.onnx   the same network from the dynamo exporter (--dynamo; see README for its status)
    expected.json          PyTorch logits + labels of the first 10 test images, accuracies, value ranges
    sample-0.npy           first Fashion-MNIST test image, preprocessed, float32 [1,3,32,32]
With --untrained it only writes resnet20.onnx, from a randomly initialised network (topology tests), to --out-dir.

Network (He et al. 2016, CIFAR-10 ResNet-20; the option-B projection shortcut):
    conv3x3(3->16) BN ReLU                                          [1,16,32,32]
    stage 1: 3 x BasicBlock(16)                                     [1,16,32,32]
    stage 2: BasicBlock(16->32, stride 2) + 2 x BasicBlock(32)      [1,32,16,16]
    stage 3: BasicBlock(32->64, stride 2) + 2 x BasicBlock(64)      [1,64,8,8]
    global average pool, flatten, linear 64->10
    BasicBlock(c_in->c, s): y = ReLU(BN(conv3x3(ReLU(BN(conv3x3_s(x))))) + shortcut(x)), shortcut = identity,
    or conv1x1 stride s + BN when the shape changes. Convolutions have no bias (BN follows each one).

Data: Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/*.gz). Each 28x28 uint8 image
is padded to 32x32 with pixel value 0, normalised as the repo's IDX reader does,
    x = (pixel / 255 - 0.1307) / 0.3081      (padding included: the border is -0.4242)
and repeated over 3 channels.

Usage (from the repo root):
    apt-get install dataset-fashion-mnist && pip install torch onnx onnxruntime onnxscript numpy
    nice -n 10 python3 examples/resnet20/train.py --dynamo        # train + export both (see --help for options)
    python3 examples/resnet20/train.py --untrained --out-dir /tmp/r20u  # random-init export only
    python3 examples/resnet20/train.py --smoke --out-dir /tmp/r20s      # end-to-end check: 2 batches, 200 images
"""
import argparse
import os
import sys
import time

# The 2 cores are shared with compilers: spinning OpenMP threads then wait on descheduled peers and a
# training step gets several times slower. Passive waiting must be chosen before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import data, export, training  # noqa: E402

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


# ----------------------------------------------------------------------------- model
def conv3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = conv3x3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu2(y + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, num_classes=10, widths=(16, 32, 64), blocks_per_stage=3):
        super().__init__()
        self.conv1 = conv3x3(3, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        stages, c_in = [], widths[0]
        for s, c in enumerate(widths):
            blocks = []
            for b in range(blocks_per_stage):
                blocks.append(BasicBlock(c_in, c, stride=2 if (s > 0 and b == 0) else 1))
                c_in = c
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)             # exports as GlobalAveragePool
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.pool(x)))


def relus(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ReLU)]


@torch.no_grad()
def preactivation_ranges(model, x):
    """Per ReLU, (min, max) of its input over x: the range a polynomial ReLU approximation must cover."""
    ranges, hooks = {}, []
    for name, mod in relus(model):
        def hook(m, inp, name=name):
            lo, hi = ranges.get(name, (np.inf, -np.inf))
            ranges[name] = (min(lo, float(inp[0].min())), max(hi, float(inp[0].max())))
        hooks.append(mod.register_forward_pre_hook(hook))
    training.predict(model, x)
    for h in hooks:
        h.remove()
    return {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in ranges.items()}


# ----------------------------------------------------------------------------- untrained network
@torch.no_grad()
def randomize_batchnorm(model, x_calib, gen):
    """Give every BN non-trivial statistics: running mean/var measured on x_calib (cumulative average, so
    activations stay in a realistic range), then random affine weight in [0.5, 1.5) and bias ~ N(0, 0.1^2)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None                              # cumulative moving average
    model.train()
    for i in range(0, len(x_calib), 64):
        model(torch.from_numpy(x_calib[i:i + 64]))
    for bn in bns:
        bn.momentum = 0.1
        bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=gen))
        bn.bias.copy_(0.1 * torch.randn(bn.bias.shape, generator=gen))
    model.eval()


# ----------------------------------------------------------------------------- training
def make_augment(shift, background):
    """Random translation by up to `shift` pixels (vacated pixels get the background value) and random
    horizontal flip; drawn from the training loop's seeded generator."""
    def augment(xb, gen):
        n = xb.shape[0]
        padded = F.pad(xb, (shift, shift, shift, shift), value=background)
        offs = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen).tolist()
        flips = torch.rand(n, generator=gen) < 0.5
        h, w = xb.shape[2:]
        out = torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offs)])
        out[flips] = out[flips].flip(3)
        return out
    return augment


def export_dynamo(model, example, path, opset):
    """Try the dynamo exporter; returns a status string instead of raising (it is a second, optional file).

    It has no opset-17 implementations: asking for 17 exports 18 and then fails to convert down (ReduceMean's
    axes became an input in 18), so it is asked for 18 directly."""
    try:
        prog = torch.onnx.export(model, (example,), dynamo=True, opset_version=max(opset, 18),
                                 input_names=["input"], output_names=["logits"], external_data=False)
        prog.save(path)
        return "ok"
    except Exception as e:  # noqa: BLE001 - report whatever the exporter raised
        return f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR", FASHION_DIR))
    ap.add_argument("--train-images", type=int, default=50000, help="use the first N (shuffled) training images")
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4, help="on conv and linear weights")
    ap.add_argument("--shift", type=int, default=2, help="random translation augmentation, pixels (0: none)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--untrained", action="store_true", help="export a random-init network, no training")
    ap.add_argument("--dynamo", action="store_true", help="also export resnet20-dynamo.onnx with dynamo=True")
    training.add_arguments(ap, out_dir=HERE, ckpt="/tmp/resnet20-fashion.pt", epochs=4, batch_size=128, lr=0.1,
                           clip=5.0)
    args = training.parse_arguments(ap, HERE)
    if args.untrained and os.path.abspath(args.out_dir) == HERE:
        ap.error("--untrained would replace the trained resnet20.onnx: give --out-dir")

    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    # Deterministic mode would also fill every new tensor with NaN (a debugging aid); the CPU kernels used
    # here are deterministic either way, and the fills cost time.
    torch.utils.deterministic.fill_uninitialized_memory = False
    (x_train, y_train), (x_test, y_test) = data.load_train_test(args.data_dir, data.pad_and_repeat)
    if args.smoke:
        x_test, y_test = x_test[:training.SMOKE_TEST_IMAGES], y_test[:training.SMOKE_TEST_IMAGES]
    print(f"train {x_train.shape} test {x_test.shape}; first test labels {y_test[:10].tolist()}", flush=True)

    model = ResNet20()
    print(f"ResNet-20: {sum(p.numel() for p in model.parameters())} parameters")
    onnx_path = os.path.join(args.out_dir, "resnet20.onnx")
    dummy = torch.from_numpy(x_test[:1])

    if args.untrained:
        gen = torch.Generator().manual_seed(args.seed)
        randomize_batchnorm(model, x_train[:512], gen)
        export.export_torchscript(model, dummy, onnx_path, args.opset)
        export.check_onnx(onnx_path)
        ort = export.onnxruntime_logits(onnx_path, x_test[:10])
        pt = training.predict(model, x_test[:10])
        print(f"untrained: onnxruntime vs PyTorch max |diff| {np.abs(ort - pt).max():.2e}")
        print("pre-activation ranges (first 1000 test images):", preactivation_ranges(model, x_test[:1000]))
        return

    t_start = time.time()
    log = []
    if args.export_only:
        model.load_state_dict(torch.load(args.ckpt))
    else:
        xs, ys, epochs, max_batches, steps = training.training_subset(x_train, y_train, args)
        opt, sched = training.sgd_one_cycle(model, args.lr, args.momentum, args.weight_decay, steps)
        augment = make_augment(args.shift, float(x_test.min())) if args.shift else None
        log = training.train(model, opt, sched, xs, ys, x_test, y_test, epochs=epochs,
                             batch_size=args.batch_size, clip=args.clip, seed=args.seed, augment=augment,
                             max_batches=max_batches, eval_images=None if args.smoke else 1000, log_every=50)
        torch.save(model.state_dict(), args.ckpt)
    train_seconds = time.time() - t_start
    print(f"training wall time {train_seconds:.0f}s")

    model.eval()
    logits = training.predict(model, x_test)
    acc = training.subset_accuracies(logits, y_test)
    pre = preactivation_ranges(model, x_test)
    print("ReLU input ranges over the test set:")
    for name, (lo, hi) in pre.items():
        print(f"  {name:18s} [{lo:8.3f}, {hi:8.3f}]  max |x| {max(-lo, hi):.3f}")

    # ------------------------------------------------------------------ export
    export.export_torchscript(model, dummy, onnx_path, args.opset)
    errs, ort_acc = export.verify_against_pytorch(model, onnx_path, x_test, y_test, logits)
    dynamo_status = "not run"
    if args.dynamo:
        dyn_path = os.path.join(args.out_dir, "resnet20-dynamo.onnx")
        dynamo_status = export_dynamo(model, dummy, dyn_path, args.opset)
        if dynamo_status == "ok":
            ops = export.check_onnx(dyn_path, require_batchnorm=False)
            d = np.abs(export.onnxruntime_logits(dyn_path, x_test[:100]) - logits[:100]).max()
            dynamo_status = (f"ok, {len(ops)} nodes {sorted(set(ops))}, "
                             f"onnxruntime vs PyTorch max |diff| on 100 images {d:.2e}")
        print(f"dynamo export: {dynamo_status}")

    data.check_committed_sample(os.path.join(HERE, "..", "data", "fashion-test-1000-images-idx3-ubyte"), x_test,
                                data.pad_and_repeat)

    np.save(os.path.join(args.out_dir, "sample-0.npy"), x_test[:1].astype(np.float32))
    expected = {
        "model": os.path.basename(onnx_path),
        "normalization": data.NORMALIZATION + ", after zero-padding 28x28 to 32x32; repeated over 3 channels",
        "source": "first 10 images of the Fashion-MNIST test set (t10k), Debian package dataset-fashion-mnist",
        "classes": CLASSES,
        "labels": y_test[:10].tolist(),
        "predictions": logits[:10].argmax(1).tolist(),
        "logits": [[round(float(v), 6) for v in row] for row in logits[:10]],
        "relu_input_range_test10000": pre,
        "max_abs_output_per_layer_test10000": training.layer_ranges(model, x_test),
        "onnxruntime_vs_pytorch_fp32": {"max_abs_diff_first10": errs[("onnxruntime vs PyTorch", 10)][0],
                                        "max_abs_diff_test10000": errs[("onnxruntime vs PyTorch", len(x_test))][0]},
        "accuracy": training.accuracy_json(acc),
        "onnxruntime_accuracy": training.accuracy_json(ort_acc),
        "dynamo_export": dynamo_status,
        "training": {"epochs": args.epochs, "train_images": args.train_images, "batch_size": args.batch_size,
                     "optimizer": "SGD nesterov + one-cycle cosine LR", "lr": args.lr, "momentum": args.momentum,
                     "weight_decay": args.weight_decay, "clip": args.clip, "shift_augment": args.shift,
                     "hflip_augment": bool(args.shift), "seed": args.seed, "threads": args.threads,
                     "wall_seconds": round(train_seconds), "log": log},
        "versions": export.versions(),
    }
    training.write_json(os.path.join(args.out_dir, "expected.json"), expected)
    print(f"wrote {args.out_dir}/sample-0.npy, expected.json")


if __name__ == "__main__":
    main()
