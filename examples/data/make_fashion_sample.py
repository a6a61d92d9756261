#!/usr/bin/env python3
"""Write the first N Fashion-MNIST test images/labels as standard (uncompressed) IDX files.

Source: the Debian package `dataset-fashion-mnist`, which ships the original gzip-compressed IDX files:

    apt-get install dataset-fashion-mnist
    # -> /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz, ...

then run (from the repo root)

    python3 examples/data/make_fashion_sample.py

Output (next to this script by default), the same format as the MNIST sample (make_mnist_sample.py):
    fashion-test-1000-images-idx3-ubyte   magic 0x00000803, dims [N, 28, 28], uint8 (NOT padded)
    fashion-test-1000-labels-idx1-ubyte   magic 0x00000801, dims [N], uint8
examples/resnet20 takes 3x32x32 inputs: a consumer pads each image with 2 pixels of value 0 on every side
(after normalisation, (0/255 - 0.1307)/0.3081) and repeats it over 3 channels.
Only the Python standard library is needed.
"""
import argparse
import gzip
import os
import sys

from make_mnist_sample import read_idx, write_idx

HERE = os.path.dirname(os.path.abspath(__file__))


def gunzipped(path, scratch_dir):
    """Path of an uncompressed copy of `path` (itself if it is not gzipped), for read_idx."""
    if not path.endswith(".gz"):
        return path
    out = os.path.join(scratch_dir, os.path.basename(path)[:-3])
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        dst.write(src.read())
    return out


def find(directory, name):
    for candidate in (name, name + ".gz"):
        if os.path.exists(os.path.join(directory, candidate)):
            return os.path.join(directory, candidate)
    raise FileNotFoundError(f"neither {name} nor {name}.gz in {directory}")


def main():
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fashion-dir", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"),
                    help="directory holding t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    ap.add_argument("-n", type=int, default=1000, help="number of leading test samples to keep")
    ap.add_argument("--out-dir", default=HERE)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        magic_i, dims_i, pix = read_idx(gunzipped(find(args.fashion_dir, "t10k-images-idx3-ubyte"), scratch))
        magic_l, dims_l, lab = read_idx(gunzipped(find(args.fashion_dir, "t10k-labels-idx1-ubyte"), scratch))
    assert magic_i == 0x00000803 and dims_i == (10000, 28, 28), (hex(magic_i), dims_i)
    assert magic_l == 0x00000801 and dims_l == (10000,), (hex(magic_l), dims_l)
    n = args.n
    assert 0 < n <= 10000

    img_path = os.path.join(args.out_dir, f"fashion-test-{n}-images-idx3-ubyte")
    lab_path = os.path.join(args.out_dir, f"fashion-test-{n}-labels-idx1-ubyte")
    write_idx(img_path, 0x00000803, (n, 28, 28), pix[:n * 28 * 28])
    write_idx(lab_path, 0x00000801, (n,), lab[:n])
    print(f"wrote {img_path} ({16 + n * 784} bytes)")
    print(f"wrote {lab_path} ({8 + n} bytes); first labels: {list(lab[:10])}")


if __name__ == "__main__":
    sys.exit(main())
