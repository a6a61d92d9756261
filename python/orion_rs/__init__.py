"""Orion-RS from Python: compile a trained network (ONNX or PyTorch) to a
CKKS program, then encrypt, evaluate with evaluation keys only, and decrypt.

    import orion_rs as orn

    program = orn.compile("mlp.onnx", params="mnist-mlp")
    client = orn.Client(program)
    client.keygen()
    server = orn.Server(program, client.evaluation_keys())
    y = client.decrypt(server.evaluate(client.encrypt(x)))

Errors are :class:`OrionError` with the tools' one-line diagnostic.
"""

from __future__ import annotations

import io
import os
from typing import Any, Optional, Union

import numpy as np

from ._native import (
    Ciphertext,
    Client,
    OrionError,
    Program,
    Server,
    __version__,
    compile_onnx,
    presets,
)

__all__ = [
    "Ciphertext",
    "Client",
    "OrionError",
    "Program",
    "Server",
    "compile",
    "presets",
    "__version__",
]


def _use_dynamo(exporter: str) -> bool:
    """Whether to export with torch's dynamo exporter (its default from torch
    2.9, which needs onnxscript) or the TorchScript one."""
    if exporter == "dynamo":
        return True
    if exporter == "torchscript":
        return False
    if exporter != "auto":
        raise OrionError(f"error: torch_exporter '{exporter}': \"auto\", \"dynamo\" or \"torchscript\"")
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


def _onnx_bytes(model: Any, example_input: Any, exporter: str) -> tuple[bytes, str, Optional[str]]:
    """The ONNX bytes of `model`, its name and the directory of its external
    data: a path, bytes, or a torch.nn.Module exported with `example_input`."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), "model.onnx", None
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise OrionError(f"error: {path}: {e.strerror}") from None
        return data, path, os.path.dirname(os.path.abspath(path))
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and isinstance(model, torch.nn.Module):
        if example_input is None:
            raise OrionError(
                "error: compiling a torch.nn.Module needs example_input (a tensor of the input shape)"
            )
        x = example_input
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        buf = io.BytesIO()
        model.eval()
        torch.onnx.export(model, (x,), buf, dynamo=_use_dynamo(exporter), verbose=False)
        return buf.getvalue(), type(model).__name__ + ".onnx", None
    raise OrionError(
        f"error: compile: expected an ONNX path, ONNX bytes or a torch.nn.Module, got {type(model).__name__}"
    )


def compile(
    model: Union[str, os.PathLike, bytes, Any],
    example_input: Any = None,
    *,
    calibration: Optional[np.ndarray] = None,
    params: str = "mnist-mlp",
    output_bound: Optional[float] = None,
    calibration_margin: Optional[float] = None,
    embedding: str = "hybrid",
    torch_exporter: str = "auto",
) -> Program:
    """Compiles a network to a CKKS program.

    model: an .onnx path, ONNX bytes, or a torch.nn.Module (exported here
        with torch.onnx.export and `example_input`; torch is needed only then).
    calibration: inputs stacked along a first axis; the ranges they reach at
        each activation fix the polynomial approximations (ReLU, SiLU, ...).
    params: a CKKS parameter preset (see `presets()`).
    output_bound: bound on |output| (default: the preset's).
    embedding: "hybrid" or "square" (how a dense layer's matrix is laid out).
    torch_exporter: for a torch.nn.Module, "dynamo" (torch's default, needs
        onnxscript), "torchscript", or "auto" (dynamo where onnxscript is).
    """
    data, name, model_dir = _onnx_bytes(model, example_input, torch_exporter)
    if calibration is not None:
        calibration = np.ascontiguousarray(calibration, dtype=np.float64)
    return compile_onnx(
        data,
        params=params,
        calibration=calibration,
        calibration_margin=calibration_margin,
        output_bound=output_bound,
        embedding=embedding,
        name=name,
        model_dir=model_dir,
    )
