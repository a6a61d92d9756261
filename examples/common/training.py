"""Seeded training loop, batched prediction, accuracy and value ranges for the example scripts.

Everything is seeded and deterministic (torch.use_deterministic_algorithms) so a script rerun with the same
seed, thread count and library versions reproduces the committed artifacts.
"""
import json
import os
import random
import re
import time

import numpy as np
import torch
import torch.nn as nn


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


def accuracy(logits, labels):
    return float((logits.argmax(1) == labels).mean())


SUBSETS = (100, 1000, 10000)


def subset_accuracies(logits, labels, who="PyTorch"):
    """{k: accuracy on the first k} for the usual subset sizes that fit (a smoke run has fewer images)."""
    acc = {k: accuracy(logits[:k], labels[:k]) for k in SUBSETS if k <= len(labels)}
    print(f"{who} accuracy: " + ", ".join(f"first {k}: {v * 100:.2f}%" for k, v in acc.items()))
    return acc


def accuracy_json(acc):
    """{"first_100": ..., "first_1000": ..., "test_10000": ...} as in the committed expected*.json files."""
    return {(f"first_{k}" if k < 10000 else f"test_{k}"): v for k, v in acc.items()}


def add_arguments(ap, out_dir, ckpt, epochs, batch_size, lr, clip, seed=42):
    """The options every example script has; `--smoke` runs 2 batches and tests on 200 images."""
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--clip", type=float, default=clip, help="gradient-norm clipping threshold")
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-dir", default=out_dir)
    ap.add_argument("--ckpt", default=ckpt, help="state_dict saved after training (not committed)")
    ap.add_argument("--export-only", action="store_true", help="skip training, load --ckpt and export")
    ap.add_argument("--smoke", action="store_true",
                    help="check the script end to end: 2 training batches, 200 test images; needs --out-dir "
                         "outside the repo, and keeps its checkpoint there")


def parse_arguments(ap, committed_dir):
    """Parse, and keep a smoke run away from the committed artifacts and the real checkpoint."""
    args = ap.parse_args()
    if args.smoke:
        if os.path.abspath(args.out_dir) == os.path.abspath(committed_dir):
            ap.error("--smoke writes throw-away artifacts: give --out-dir outside the repo")
        if not args.export_only:
            args.ckpt = os.path.join(args.out_dir, "smoke.pt")
    os.makedirs(args.out_dir, exist_ok=True)
    return args


SMOKE_BATCHES, SMOKE_TEST_IMAGES = 2, 200


@torch.no_grad()
def layer_ranges(model, x, modules=None):
    """max |output| of every leaf module over x (plus the input), to size CKKS scales.

    `modules` optionally restricts the hooks to (name, module) pairs; by default every leaf module.
    """
    ranges, hooks = {"input": float(np.abs(x).max())}, []
    if modules is None:
        modules = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    for name, mod in modules:
        def hook(m, inp, out, name=name):
            ranges[name] = max(ranges.get(name, 0.0), float(out.abs().max()))
        hooks.append(mod.register_forward_hook(hook))
    predict(model, x)
    for h in hooks:
        h.remove()
    return {k: round(v, 4) for k, v in ranges.items()}


def training_subset(x_train, y_train, args):
    """The first `args.train_images` of a seeded permutation, the epochs and the batches per epoch (None: all;
    a smoke run does one epoch of SMOKE_BATCHES), and the total number of optimiser steps."""
    perm = np.random.default_rng(args.seed).permutation(len(x_train))[:args.train_images]
    xs, ys = x_train[perm], y_train[perm]
    epochs, max_batches = (1, SMOKE_BATCHES) if args.smoke else (args.epochs, None)
    steps = epochs * (max_batches or (len(xs) + args.batch_size - 1) // args.batch_size)
    return xs, ys, epochs, max_batches, steps


def sgd_one_cycle(model, lr, momentum, weight_decay, steps):
    """SGD with Nesterov momentum, weight decay on conv and linear weights only (not on BN parameters or
    biases), and a one-cycle learning rate: 15% warm-up to `lr`, then cosine to ~0."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay},
                           {"params": rest, "weight_decay": 0.0}], lr=lr, momentum=momentum, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15,
                                                anneal_strategy="cos")
    return opt, sched


def train(model, opt, sched, x_train, y_train, x_test, y_test, *, epochs, batch_size, clip, seed,
          augment=None, max_batches=None, eval_images=None, log_every=None):
    """Minibatch training with cross-entropy, gradient-norm clipping and a per-step LR scheduler.

    The shuffling generator is seeded with `seed` (separate from the global RNG that initialised the model).
    `augment(xb, gen)` may transform each batch. `max_batches` stops each epoch early (smoke runs), and
    `eval_images` limits the per-epoch test evaluation. Returns the per-epoch log.
    """
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    n_eval = len(x_test) if eval_images is None else eval_images
    log = []
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total, n = time.time(), 0.0, 0
        perm = torch.randperm(len(xt), generator=gen)
        for b, i in enumerate(range(0, len(xt), batch_size)):
            if max_batches is not None and b >= max_batches:
                break
            idx = perm[i:i + batch_size]
            xb = xt[idx] if augment is None else augment(xt[idx], gen)
            loss = loss_fn(model(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
            if log_every and (b + 1) % log_every == 0:
                print(f"  epoch {epoch} batch {b + 1}: loss {total / n:.4f} ({time.time() - t0:.0f}s)", flush=True)
        acc = accuracy(predict(model, x_test[:n_eval]), y_test[:n_eval])
        dt = time.time() - t0
        print(f"epoch {epoch:2d}  loss {total / n:.4f}  test acc {acc * 100:.2f}%  ({dt:.1f}s)", flush=True)
        log.append({"epoch": epoch, "loss": round(total / n, 4), "test_acc": acc, "seconds": round(dt, 1)})
    return log


def write_json(path, obj):
    """JSON with one line per list of numbers (logits rows stay readable)."""
    text = json.dumps(obj, indent=1)
    text = re.sub(r"\[\s+([-0-9.,e\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")
