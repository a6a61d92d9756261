#!/usr/bin/env python3
"""Exports a small CNN with max pooling (x[1,1,8,8] -> Conv2d(1, 4, 3,
padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(64, 3), fixed seed)
with both PyTorch ONNX exporters, for tests/lit/run/maxpool.test:
`maxpool.ts.onnx`, `maxpool.dynamo.onnx`; `input.npy` (a ramp) and
`calibration.npy` (32 random inputs).

Run once (needs `pip install torch onnx onnxscript`); the files are
committed so the lit tests never need Python:

    python3 tests/lit/inputs/maxpool/export.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)
    ).eval()
    x = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8)
    calib = torch.rand(32, 1, 8, 8) * 2 - 1
    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "calibration.npy"), calib.numpy().astype(np.float32))
    torch.onnx.export(model, (x,), os.path.join(HERE, "maxpool.ts.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"])
    torch.onnx.export(model, (x,), os.path.join(HERE, "maxpool.dynamo.onnx"), dynamo=True,
                      external_data=False, input_names=["input"], output_names=["logits"])
    with torch.no_grad():
        print("logits", model(x).numpy().round(4).tolist())


if __name__ == "__main__":
    main()
