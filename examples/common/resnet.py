"""ResNet-18 (He et al. 2016) in two input sizes: the CIFAR form (3x3 stem, no pool) and the ImageNet form
(7x7 stride-2 stem and 3x3 stride-2 max pool). BasicBlocks, 1x1 projection shortcuts (option B) where the
shape changes, bias-free convs each followed by BatchNorm."""
import torch.nn as nn

WIDTHS = (64, 128, 256, 512)


def conv_bn(c_in, c_out, kernel, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    """ReLU(BN(conv3x3(ReLU(BN(conv3x3_s(x))))) + shortcut(x))."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, c_out, 3, stride), nn.ReLU(), conv_bn(c_out, c_out, 3))
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes=10, imagenet_stem=False):
        super().__init__()
        if imagenet_stem:
            stem = [conv_bn(3, WIDTHS[0], 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        else:
            stem = [conv_bn(3, WIDTHS[0], 3), nn.ReLU()]
        layers, c = stem, WIDTHS[0]
        for i, w in enumerate(WIDTHS):
            layers += [BasicBlock(c, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            c = w
        # One Sequential (the trained CIFAR example's names): net[:-1] is the features, net[-1] the classifier.
        self.net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))

    def forward(self, x):
        return self.net(x)
