#!/usr/bin/env python3
"""Writes unsupported-op.onnx: Gemm (supported) followed by Hardmax, an ONNX
op the importer does not map, in a node named "/head/Hardmax".

Run once (needs `pip install onnx`); the generated file is committed so the
lit tests never need Python:

    python3 tests/lit/inputs/make_bad_onnx.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))

w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, "fc.weight")
b = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "fc.bias")
nodes = [
    helper.make_node("Gemm", ["input", "fc.weight", "fc.bias"], ["h"], name="/fc/Gemm", transB=1),
    helper.make_node("Hardmax", ["h"], ["out"], name="/head/Hardmax", axis=1),
]
graph = helper.make_graph(
    nodes,
    "unsupported_op",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
    initializer=[w, b],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="orion-rs-lit")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "unsupported-op.onnx"))
print("wrote", os.path.join(HERE, "unsupported-op.onnx"))

# unsupported-ops.onnx: a conv net with two ops the importer does not map
# (LRN, Hardmax) before its final Softmax: one error names both.
cw = numpy_helper.from_array(np.ones((2, 1, 3, 3), dtype=np.float32) / 9, "conv.weight")
fw = numpy_helper.from_array(np.ones((3, 32), dtype=np.float32) / 32, "fc.weight")
nodes = [
    helper.make_node("Conv", ["input", "conv.weight"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
    helper.make_node("LRN", ["c"], ["p"], name="/norm/LRN", size=3),
    helper.make_node("Flatten", ["p"], ["f"], name="/flatten/Flatten"),
    helper.make_node("Gemm", ["f", "fc.weight"], ["h"], name="/fc/Gemm", transB=1),
    helper.make_node("Hardmax", ["h"], ["m"], name="/head/Hardmax", axis=1),
    helper.make_node("Softmax", ["m"], ["out"], name="/head/Softmax", axis=1),
]
graph = helper.make_graph(
    nodes,
    "unsupported_ops",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 4, 4])],
    [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
    initializer=[cw, fw],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="orion-rs-lit")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(HERE, "unsupported-ops.onnx"))
print("wrote", os.path.join(HERE, "unsupported-ops.onnx"))
