"""ONNX export of the example networks and its verification against PyTorch.

The TorchScript exporter is called so that BatchNormalization stays a separate node (the compiler folds it
itself): `do_constant_folding=False` and `training=PRESERVE` on an eval-mode model; the default
TrainingMode.EVAL runs a peephole pass that fuses Conv+BatchNormalization.
"""
import copy
import os

import numpy as np
import torch

from .training import predict, subset_accuracies


def export_torchscript(model, example, onnx_path, opset=17):
    """Static batch-1 export with input `input` and output `logits`, BatchNormalization kept."""
    model.eval()
    torch.onnx.export(
        model, (example,), onnx_path,
        dynamo=False,                                  # TorchScript exporter
        export_params=True,
        opset_version=opset,
        input_names=["input"], output_names=["logits"],
        dynamic_axes=None,                             # static batch 1
        do_constant_folding=False,                     # keep BatchNormalization un-folded
        training=torch.onnx.TrainingMode.PRESERVE,     # model is in eval mode; skips eval-mode BN fusion passes
    )


def check_onnx(onnx_path, require_batchnorm=True):
    """onnx.checker, no external data, BatchNormalization present; returns the op list."""
    import onnx

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer), "external data"
    ops = [n.op_type for n in m.graph.node]
    print(f"ONNX {onnx_path}: {os.path.getsize(onnx_path)} bytes, opset {m.opset_import[0].version}, "
          f"{len(ops)} nodes {sorted(set(ops))}")
    if require_batchnorm:
        assert "BatchNormalization" in ops, "BatchNormalization was folded away"
    return ops


def onnxruntime_logits(onnx_path, x):
    """Logits of onnxruntime on x, one image at a time (the graph has a static batch of 1)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    in_name, out_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    return np.concatenate([sess.run([out_name], {in_name: x[i:i + 1]})[0] for i in range(len(x))])


def verify_against_pytorch(model, onnx_path, x_test, y_test, logits, tolerance=1e-4):
    """Compare onnxruntime with PyTorch fp32 and a float64 PyTorch reference on x_test.

    Float32 results depend on summation order (Gemm/Conv kernels differ between the two runtimes), and
    stacked x^2 layers amplify that; the float64 reference tells export differences from rounding noise.
    Asserts max |diff|/max(1,|logit|) <= tolerance, equal predictions, and that onnxruntime is not much
    further from fp64 than PyTorch fp32 is. Returns ({(comparison, k): (max abs, max rel)}, onnxruntime
    accuracies by subset size).
    """
    check_onnx(onnx_path)
    ort_logits = onnxruntime_logits(onnx_path, x_test)
    logits64 = predict(copy.deepcopy(model).double(), x_test.astype(np.float64))
    errs = {}
    for k in (10, len(x_test)):
        scale = np.maximum(np.abs(logits64[:k]), 1.0)
        for name, a, b in (("onnxruntime vs PyTorch", ort_logits, logits),
                           ("PyTorch fp32 vs fp64  ", logits, logits64),
                           ("onnxruntime vs fp64   ", ort_logits, logits64)):
            d = np.abs(a[:k] - b[:k])
            errs[(name.strip(), k)] = (float(d.max()), float((d / scale).max()))
            print(f"{name} first {k:5d}: max |diff| {d.max():.2e}, max |diff|/max(1,|logit|) {(d / scale).max():.2e}")
        print(f"  (max |logit| over first {k}: {np.abs(logits64[:k]).max():.1f})")
    n = len(x_test)
    assert errs[("onnxruntime vs PyTorch", n)][1] <= tolerance, "ONNX/PyTorch mismatch"
    ort_rel, pt_rel = errs[("onnxruntime vs fp64", n)][1], errs[("PyTorch fp32 vs fp64", n)][1]
    assert ort_rel <= max(4 * pt_rel, 1e-5), "onnxruntime much less accurate than PyTorch fp32"
    assert (ort_logits.argmax(1) == logits.argmax(1)).all(), "ONNX/PyTorch predictions differ"
    ort_acc = subset_accuracies(ort_logits, y_test, "onnxruntime")
    return errs, ort_acc


def versions():
    import onnx
    import onnxruntime as ort

    return {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__}
