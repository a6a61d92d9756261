#!/usr/bin/env python3
"""Exports a small Inception-style CNN (x[1,1,8,8] -> Conv2d(1, 4, 3,
padding=1) -> ReLU -> three branches: Conv2d 1x1 to 2 channels, Conv2d 3x3
to 2 channels -> ReLU, MaxPool2d(3, stride=1, padding=1) -> torch.cat on
channels (8) -> ReLU -> global average pool -> Linear(8, 3), fixed seed)
with both PyTorch ONNX exporters, for tests/lit/run/concat.test:
`concat.ts.onnx`, `concat.dynamo.onnx`; `input.npy` (a ramp) and
`calibration.npy` (32 random inputs).

Run once (needs `pip install torch onnx onnxscript`); the files are
committed so the lit tests never need Python:

    python3 tests/lit/inputs/concat/export.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.b1 = nn.Conv2d(4, 2, 1)
        self.b3 = nn.Sequential(nn.Conv2d(4, 2, 3, padding=1), nn.ReLU())
        self.bp = nn.MaxPool2d(3, stride=1, padding=1)
        self.head = nn.Sequential(
            nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3)
        )

    def forward(self, x):
        s = self.stem(x)
        return self.head(torch.cat([self.b1(s), self.b3(s), self.bp(s)], 1))


def main():
    torch.manual_seed(0)
    model = Inception().eval()
    x = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8)
    calib = torch.rand(32, 1, 8, 8) * 2 - 1
    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "calibration.npy"), calib.numpy().astype(np.float32))
    torch.onnx.export(model, (x,), os.path.join(HERE, "concat.ts.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"])
    torch.onnx.export(model, (x,), os.path.join(HERE, "concat.dynamo.onnx"), dynamo=True,
                      external_data=False, input_names=["input"], output_names=["logits"])
    with torch.no_grad():
        print("logits", model(x).numpy().round(4).tolist())


if __name__ == "__main__":
    main()
