#!/usr/bin/env python3
"""Exports a small 1-D convolutional network for time series (x[1,2,16] ->
Conv1d(2, 4, 3, padding=1) -> GELU -> AvgPool1d(2) -> Flatten ->
Linear(32, 3), fixed seed) with both PyTorch ONNX exporters, for
tests/lit/run/conv1d.test: `conv1d.ts.onnx` (TorchScript, opset 17),
`conv1d.dynamo.onnx`, and `input.npy` (a sine and a ramp); and the same
with a zero pad in front of an unpadded Conv1d (nn.ZeroPad1d((1, 2))):
`pad1d.ts.onnx`, `pad1d.dynamo.onnx`.

Run once (needs `pip install torch onnx onnxscript`); the files are
committed so the lit tests never need Python:

    python3 tests/lit/inputs/conv1d/export.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1), nn.GELU(), nn.AvgPool1d(2), nn.Flatten(), nn.Linear(32, 3)
    ).eval()
    t = torch.linspace(0, 1, 16)
    x = torch.stack([torch.sin(6.28 * t), 2 * t - 1]).reshape(1, 2, 16)
    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    torch.onnx.export(model, (x,), os.path.join(HERE, "conv1d.ts.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"])
    torch.onnx.export(model, (x,), os.path.join(HERE, "conv1d.dynamo.onnx"), dynamo=True,
                      external_data=False, input_names=["input"], output_names=["logits"])
    with torch.no_grad():
        print("logits", model(x).numpy().round(4).tolist())
    torch.manual_seed(0)
    padded = nn.Sequential(
        nn.ZeroPad1d((1, 2)), nn.Conv1d(2, 4, 3), nn.GELU(), nn.AvgPool1d(2), nn.Flatten(),
        nn.Linear(32, 3)
    ).eval()
    torch.onnx.export(padded, (x,), os.path.join(HERE, "pad1d.ts.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"])
    torch.onnx.export(padded, (x,), os.path.join(HERE, "pad1d.dynamo.onnx"), dynamo=True,
                      external_data=False, input_names=["input"], output_names=["logits"])
    with torch.no_grad():
        print("padded logits", padded(x).numpy().round(4).tolist())


if __name__ == "__main__":
    main()
