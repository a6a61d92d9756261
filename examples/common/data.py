"""IDX image/label files and the input normalisation the Rust tools use.

The normalisation must match tools/src/input_files.rs, which reads the committed IDX samples:
    x = (pixel / 255 - 0.1307) / 0.3081
so networks trained here can be fed those files directly.
"""
import gzip
import os
import struct

import numpy as np

MEAN, STD = 0.1307, 0.3081
NORMALIZATION = f"(pixel/255 - {MEAN}) / {STD}"


def read_idx(path):
    """Read an IDX file of unsigned bytes (optionally gzip-compressed) into a numpy uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    assert magic >> 8 == 0x08, f"{path}: not a ubyte IDX file (magic 0x{magic:08x})"
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(directory, name):
    """Path of `name` or `name.gz` in `directory` (npm's MNIST is plain, Debian's Fashion-MNIST is gzipped)."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"neither {name} nor {name}.gz in {directory}")


def normalize(images_u8):
    """uint8 [N,H,W] -> float32 [N,1,H,W], (pixel/255 - mean)/std."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


def pad_and_repeat(images_u8, pad=2, channels=3):
    """uint8 [N,28,28] -> float32 [N,channels,28+2*pad,28+2*pad].

    Pads with pixel value 0 BEFORE normalising, so the border is (0/255 - mean)/std like any black pixel
    (a consumer of the 28x28 IDX files pads the normalised image with that value), then repeats the
    single grey channel.
    """
    padded = np.pad(images_u8, ((0, 0), (pad, pad), (pad, pad)), mode="constant", constant_values=0)
    return np.repeat(normalize(padded), channels, axis=1)


def load_idx_dataset(directory, prefix, transform=normalize):
    """(images, int64 labels) of `prefix`-images-idx3-ubyte / `prefix`-labels-idx1-ubyte, images transformed."""
    x = read_idx(find_idx(directory, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(find_idx(directory, f"{prefix}-labels-idx1-ubyte"))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28), (x.shape, y.shape)
    return transform(x), y.astype(np.int64)


def load_train_test(directory, transform=normalize):
    """((x_train, y_train), (x_test, y_test)) from the standard `train` / `t10k` IDX files."""
    return load_idx_dataset(directory, "train", transform), load_idx_dataset(directory, "t10k", transform)


def check_committed_sample(path, x_test, transform=normalize):
    """Assert the committed IDX sample at `path` (if present) equals the leading test images after `transform`."""
    if not os.path.exists(path):
        return
    xs = transform(read_idx(path))
    n = min(len(xs), len(x_test))
    assert np.array_equal(xs[:n], x_test[:n]), f"{path} differs from the test set"
