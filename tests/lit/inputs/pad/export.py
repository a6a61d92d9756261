#!/usr/bin/env python3
"""Exports ZeroPad2d((1, 2, 0, 1)) -> Conv2d(1, 2, 3) (fixed seed) with the
TorchScript exporter, which writes the pads as a computed shape subgraph
feeding a Pad node (dynamo folds the pad into the Conv itself), for
tests/lit/onnx/pad.test; and `input.npy`, a ramp of shape [1, 1, 6, 6].

Run once (needs `pip install torch onnx`); the files are committed:

    python3 tests/lit/inputs/pad/export.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.Conv2d(1, 2, 3)).eval()
    x = torch.linspace(-1, 1, 36).reshape(1, 1, 6, 6)
    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    torch.onnx.export(model, (x,), os.path.join(HERE, "zeropad.ts.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["y"])
    with torch.no_grad():
        print("y", model(x).numpy().reshape(-1).round(4).tolist())


if __name__ == "__main__":
    main()
