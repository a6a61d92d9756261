"""Bad input from Python raises OrionError with the diagnostic, never a
crash of the interpreter."""

import numpy as np
import pytest

import orion_rs as orn
from conftest import mnist_images


def test_wrong_shape(mlp, mlp_keys):
    with pytest.raises(orn.OrionError, match=r"shape \[5\], the program takes \[1, 1, 28, 28\]"):
        mlp_keys.encrypt(np.zeros(5))
    with pytest.raises(orn.OrionError, match="shape"):
        mlp.run_clear(np.zeros((28, 29)))


def test_not_an_array(mlp_keys):
    with pytest.raises(orn.OrionError, match="numpy array"):
        mlp_keys.encrypt([1.0, 2.0])


def test_nan_input(mlp, mlp_keys):
    x = mnist_images(0, 1)[0].copy()
    x[0, 0, 3, 4] = np.nan
    with pytest.raises(orn.OrionError, match="is NaN, not a finite number"):
        mlp_keys.encrypt(x)
    with pytest.raises(orn.OrionError, match="NaN"):
        mlp.run_clear(x)


def test_ciphertext_under_other_keys(mlp, mlp_keys):
    other = orn.Client(mlp)
    other.keygen(seed=99, quiet=True)
    ct = other.encrypt(mnist_images(0, 1)[0])
    with pytest.raises(orn.OrionError, match="this secret key is"):
        mlp_keys.decrypt(ct)
    server = orn.Server(mlp, mlp_keys.evaluation_keys())
    with pytest.raises(orn.OrionError, match="this evaluation key set is"):
        server.evaluate(ct)


def test_corrupted_bytes(mlp, mlp_keys):
    data = bytearray(mlp_keys.encrypt(mnist_images(0, 1)[0]).to_bytes())
    with pytest.raises(orn.OrionError, match="truncated or corrupted"):
        orn.Ciphertext.from_bytes(mlp, bytes(data[: len(data) // 2]))
    data[-100] ^= 0x10
    with pytest.raises(orn.OrionError, match="checksum"):
        orn.Ciphertext.from_bytes(mlp, bytes(data))
    with pytest.raises(orn.OrionError, match="not a valid Orion-RS file"):
        orn.Server(mlp, b"not keys")


def test_program_that_does_not_parse(tmp_path):
    path = tmp_path / "broken.mlir"
    path.write_text("module {\n  func.func @main(\n")
    with pytest.raises(orn.OrionError, match=r"broken.mlir:\d+:\d+: error"):
        orn.Program.load(path)
    with pytest.raises(orn.OrionError, match="not a ckks program"):
        orn.Program.parse(
            "module {\n  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n    return %x : tensor<4xf32>\n  }\n}\n"
        )


def test_bad_model_and_options(tmp_path):
    with pytest.raises(orn.OrionError, match="not a valid ONNX model"):
        orn.compile(b"garbage")
    with pytest.raises(orn.OrionError, match="No such file"):
        orn.compile(tmp_path / "missing.onnx")
    with pytest.raises(orn.OrionError, match="unknown parameter preset 'nope'"):
        orn.compile(b"garbage", params="nope")
    with pytest.raises(orn.OrionError, match="automatic parameters are not implemented"):
        orn.compile(b"garbage", params="auto")
    with pytest.raises(orn.OrionError, match="torch.nn.Module"):
        orn.compile(42)


def test_client_without_keys(mlp):
    client = orn.Client(mlp)
    with pytest.raises(orn.OrionError, match="no keys"):
        client.encrypt(np.zeros((1, 1, 28, 28)))
    encrypt_only = orn.Client(mlp, public_key=_public_key(mlp))
    ct = encrypt_only.encrypt(np.zeros((1, 1, 28, 28)))
    with pytest.raises(orn.OrionError, match="needs the secret key"):
        encrypt_only.decrypt(ct)


def _public_key(program):
    c = orn.Client(program)
    c.keygen(seed=5, quiet=True)
    return c.public_key()
