"""Makes the malformed ONNX models of the bad-input lit tests (committed;
rerun with `python3 tests/lit/inputs/bad-onnx/make.py`, needs `onnx`).

Each is a one-layer network y = x W^T + b whose weight W is broken in one
way: a shape claiming 10^9 elements with no data behind it, a shape whose
element count overflows, data shorter than the shape, and W's data in an
external file `weights.bin` (the test puts a FIFO there)."""

import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).parent


def model(weight: TensorProto) -> onnx.ModelProto:
    b = numpy_helper.from_array(np.zeros(4, dtype=np.float32), "b")
    node = helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc", transB=1)
    graph = helper.make_graph(
        [node],
        "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[weight, b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def tensor(dims, raw=b"", name="W") -> TensorProto:
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def save(m: onnx.ModelProto, name: str):
    (HERE / name).write_bytes(m.SerializeToString())


save(model(tensor([1_000_000_000])), "huge-initializer.onnx")
save(model(tensor([1 << 40, 1 << 40])), "overflow-initializer.onnx")
save(model(tensor([4, 8], raw=b"\0" * 12)), "short-initializer.onnx")
ext = tensor([4, 8])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "128")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save(model(ext), "external-initializer.onnx")
