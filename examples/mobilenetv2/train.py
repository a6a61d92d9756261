#!/usr/bin/env python3
"""Train MobileNetV2 (Sandler et al. 2018, width 1.0, the ImageNet strides) on Fashion-MNIST padded to
3x32x32, and export it to ONNX. Not part of any test path.

    conv3x3(3->32, s2) BN ReLU6                                        [1,32,16,16]
    17 inverted residual blocks (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2)
                                                (6,96,3,1) (6,160,3,2) (6,320,1,1)
        block: 1x1 expand (t > 1) BN ReLU6, 3x3 depthwise (stride s on the first of n) BN ReLU6,
               1x1 project BN (linear bottleneck); + input when stride 1 and the channels agree
    conv1x1(320->1280) BN ReLU6, global average pool, linear 1280->10   [1,10]

At 32x32 the largest activation is the first expansion, 96 x 16 x 16 = 24576 values: every activation fits
one ciphertext of 2^15 slots.

Usage (from the repo root; data from `apt-get install dataset-fashion-mnist`):
    pip install torch onnx onnxruntime onnxscript numpy
    nice -n 10 python3 examples/mobilenetv2/train.py
    python3 examples/mobilenetv2/train.py --smoke --out-dir /tmp/mv2s     # end to end in a minute
"""
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch.nn as nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import recipe  # noqa: E402

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1)]


def conv_bn(c_in, c_out, kernel, stride=1, groups=1, relu6=True):
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU6()) if relu6 else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, c_in, c_out, stride, t):
        super().__init__()
        hidden = c_in * t
        layers = [conv_bn(c_in, hidden, 1)] if t != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, c_out, 1, relu6=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        layers, c = [conv_bn(3, 32, 3, 2)], 32
        for t, c_out, n, s in SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(c, c_out, s if i == 0 else 1, t))
                c = c_out
        layers += [conv_bn(c, 1280, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    recipe.main(MobileNetV2, "mobilenetv2", HERE, "fashion32", epochs=2, lr=0.05, weight_decay=5e-4)
