#!/usr/bin/env python3
"""Exports a tiny MLP per activation (x[1,8] -> Linear -> act -> Linear ->
y[1,3], fixed seed) with both PyTorch ONNX exporters, for the import lit
tests (tests/lit/onnx/activations.test): `<act>.ts.onnx` (TorchScript,
opset 17) and `<act>.dynamo.onnx` (dynamo, its default opset), plus
`input.npy`, the input the tests run, and `input-past.npy`, the same input
times 1.03 (past a range calibrated on `input.npy` alone).

Run once (needs `pip install torch onnx onnxscript`); the files are
committed so the lit tests never need Python:

    python3 tests/lit/inputs/activations/export.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))

ACTIVATIONS = {
    "relu6": nn.ReLU6(),
    "leaky_relu": nn.LeakyReLU(0.1),
    "prelu": nn.PReLU(),
    "prelu_channels": nn.PReLU(8),
    "hardtanh": nn.Hardtanh(-2.0, 2.0),
    "hardsigmoid": nn.Hardsigmoid(),
    "hardswish": nn.Hardswish(),
    "elu": nn.ELU(),
    "softplus": nn.Softplus(),
    "tanh": nn.Tanh(),
    "gelu": nn.GELU(),
    "gelu_tanh": nn.GELU(approximate="tanh"),
    "mish": nn.Mish(),
    "silu": nn.SiLU(),
}


def main():
    x = torch.linspace(-1.0, 1.0, 8).reshape(1, 8)
    np.save(os.path.join(HERE, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "input-past.npy"), (1.03 * x).numpy().astype(np.float32))
    for name, act in ACTIVATIONS.items():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 8), act, nn.Linear(8, 3)).eval()
        with torch.no_grad():
            model[0].weight.mul_(4.0)  # hidden values across every kink
            if name == "prelu_channels":  # a slope per unit, not the uniform default
                model[1].weight.copy_(torch.linspace(0.05, 0.5, 8))
        ts = os.path.join(HERE, f"{name}.ts.onnx")
        torch.onnx.export(model, (x,), ts, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"])
        dy = os.path.join(HERE, f"{name}.dynamo.onnx")
        torch.onnx.export(model, (x,), dy, dynamo=True, external_data=False,
                          input_names=["input"], output_names=["logits"])
        with torch.no_grad():
            print(name, model(x).numpy().round(4).tolist())
    # A head ending in Softmax, which the importer leaves to the client.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3), nn.Softmax(dim=1)).eval()
    for kind, dynamo in (("ts", False), ("dynamo", True)):
        path = os.path.join(HERE, f"softmax-head.{kind}.onnx")
        extra = {"external_data": False} if dynamo else {"opset_version": 17}
        torch.onnx.export(model, (x,), path, dynamo=dynamo, input_names=["input"],
                          output_names=["probs"], **extra)
    with torch.no_grad():
        print("softmax-head logits", model[:3](x).numpy().round(4).tolist(),
              "probabilities", model(x).numpy().round(4).tolist())


if __name__ == "__main__":
    main()
