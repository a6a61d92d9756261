#!/usr/bin/env python3
"""Train the standard CIFAR ResNet-18 (He et al. 2016's ImageNet ResNet-18 with the usual CIFAR stem) on
Fashion-MNIST padded to 3x32x32, and export it to ONNX. Not part of any test path.

    conv3x3(3->64) BN ReLU                                   [1,64,32,32]   (65536 values: two ciphertexts)
    stage 1: BasicBlock(64->64) x 2                          [1,64,32,32]
    stage 2: BasicBlock(64->128, stride 2), BasicBlock x 1   [1,128,16,16]
    stage 3: BasicBlock(128->256, stride 2), BasicBlock x 1  [1,256,8,8]
    stage 4: BasicBlock(256->512, stride 2), BasicBlock x 1  [1,512,4,4]
    global average pool, linear 512->10                      [1,10]

    BasicBlock(c_in->c, stride s): ReLU(BN(conv3x3(ReLU(BN(conv3x3_s(x))))) + shortcut(x)),
        shortcut = identity, or conv1x1 stride s + BN when the shape changes (option B)

11.2 M parameters, 17 ReLUs, 8 residual adds. Training a network of 0.56 GFLOP per image on two cores is
slow, so the default trains one epoch on 30000 of the 60000 training images (about 12 minutes).

Usage (from the repo root; data from `apt-get install dataset-fashion-mnist`):
    pip install torch onnx onnxruntime onnxscript numpy
    nice -n 10 python3 examples/resnet18-cifar/train.py
    python3 examples/resnet18-cifar/train.py --smoke --out-dir /tmp/r18s     # end to end in a minute
"""
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch.nn as nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import recipe  # noqa: E402


def conv_bn(c_in, c_out, kernel, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, c_out, 3, stride), nn.ReLU(), conv_bn(c_out, c_out, 3))
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes=10, widths=(64, 128, 256, 512)):
        super().__init__()
        layers, c = [conv_bn(3, widths[0], 3), nn.ReLU()], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers += [BasicBlock(c, w, stride), BasicBlock(w, w, 1)]
            c = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    recipe.main(ResNet18, "resnet18", HERE, "fashion32", epochs=1, lr=0.05, weight_decay=5e-4,
                train_images=30000)
