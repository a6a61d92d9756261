"""Shared helpers for the example training/export scripts (examples/*/train.py).

Not part of any test path. The scripts import it as `common` after putting `examples/` on sys.path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from common import data, training, export

Modules:
    data      IDX reading (plain or .gz), the repo's pixel normalisation, Fashion-MNIST padding to 32x32
    training  seeding, a seeded minibatch training loop, batched prediction, accuracy, value ranges, JSON output
    export    TorchScript ONNX export with BatchNormalization kept, and onnxruntime/fp64 verification
"""
