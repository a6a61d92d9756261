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
slow, so the default trains one epoch on 30000 of the 60000 training images (18 minutes here), and
onnxruntime and float64 PyTorch are checked on the first 1000 test images.

Usage (from the repo root; data from `apt-get install dataset-fashion-mnist`):
    pip install torch onnx onnxruntime onnxscript numpy
    nice -n 10 python3 examples/resnet18-cifar/train.py
    python3 examples/resnet18-cifar/train.py --smoke --out-dir /tmp/r18s     # end to end in a minute
"""
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import recipe  # noqa: E402
from common.resnet import ResNet18  # noqa: E402


if __name__ == "__main__":
    recipe.main(ResNet18, "resnet18", HERE, "fashion32", epochs=1, lr=0.05, weight_decay=5e-4,
                train_images=30000, verify_images=1000)
