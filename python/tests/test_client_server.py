"""Client and server apart on the example networks: the server holds only
the evaluation keys' bytes; every decrypted class equals orion-run's and
the cleartext program's, within the stated error bound."""

import numpy as np

import orion_rs as orn
from conftest import EXAMPLES, ROOT, mnist_images, orion_run_classes

# |encrypted - clear| relative to the largest clear logit, as orion-run's
# --compare bound: at the MNIST MLP's 26-bit scale the error is ~2^-10 of
# the logits (measured: at most 4e-4 relative over these 10 images).
BOUND = 1e-2


def run_apart(program: orn.Program, client: orn.Client, images: np.ndarray):
    """Encrypts each image, evaluates on a Server made from the evaluation
    keys' bytes alone, decrypts; every ciphertext crosses as bytes."""
    server = orn.Server(program, client.evaluation_keys())
    assert server.key_id == client.key_id
    outs = []
    for x in images:
        request = client.encrypt(x).to_bytes()
        response = server.evaluate(orn.Ciphertext.from_bytes(program, request)).to_bytes()
        outs.append(client.decrypt(orn.Ciphertext.from_bytes(program, response)))
    return outs


def check_against_clear(program, images, outs):
    classes = []
    for x, y in zip(images, outs):
        clear = program.run_clear(x)
        assert y.shape == clear.shape
        rel = np.max(np.abs(y - clear)) / np.max(np.abs(clear))
        assert rel < BOUND, f"relative logit error {rel:.2e}"
        assert y.argmax() == clear.argmax()
        classes.append(int(y.argmax()))
    return classes


def test_mnist_mlp_ten_images(mlp, mlp_keys, tmp_path):
    images = mnist_images(0, 10)
    outs = run_apart(mlp, mlp_keys, images)
    classes = check_against_clear(mlp, images, outs)
    assert classes == orion_run_classes(mlp, tmp_path, 10)


def test_bootstrapped_relu_mlp(tmp_path):
    program = orn.compile(
        EXAMPLES / "mnist-relu-mlp" / "mlp.onnx",
        params="bootstrap-test",
        calibration=mnist_images(100, 50),
    )
    assert program.bootstraps == 1
    client = orn.Client(program)
    client.keygen(seed=2, quiet=True)
    images = mnist_images(0, 2)
    outs = run_apart(program, client, images)
    classes = check_against_clear(program, images, outs)
    assert classes == orion_run_classes(program, tmp_path, 2)


def test_keys_and_program_through_files(mlp, mlp_keys, tmp_path):
    """Keys and the program written to files and read back, as separate
    processes would."""
    mlp.save(tmp_path / "mlp.ckks.mlir")
    program = orn.Program.load(tmp_path / "mlp.ckks.mlir")
    mlp_keys.evaluation_keys(tmp_path / "eval.keys")
    mlp_keys.secret_key(tmp_path / "secret.key")
    mlp_keys.public_key(tmp_path / "public.key")
    encryptor = orn.Client(program, public_key=tmp_path / "public.key")
    decryptor = orn.Client(program, secret_key=str(tmp_path / "secret.key"))
    server = orn.Server(program, tmp_path / "eval.keys")
    x = mnist_images(3, 1)[0]
    y = decryptor.decrypt(server.evaluate(encryptor.encrypt(x)))
    assert y.argmax() == program.run_clear(x).argmax()


def test_levels_stats_and_one_call_run(mlp):
    assert "nn.gemm" in mlp.ir("nn")
    assert "pack.linear" in mlp.ir("pack")
    assert "ckks.rotate" in mlp.ir("ckks")
    assert '"ckks.rotate"' in mlp.ir("ckks", generic=True)
    assert "/fc1/Gemm" in mlp.stats()
    x = mnist_images(7, 1)[0]
    y, report = mlp.run_encrypted(x, seed=4)
    assert report["class"] == report["clear_class"] == int(y.argmax())
    # ~10-11 bits at the 26-bit scale of the mnist-mlp preset.
    assert report["bits"] > 8, report
    assert len(report["bits_per_output"]) == y.size


def test_final_softmax_is_the_clients():
    """A network ending in Softmax: the program returns logits, says that
    the client applies a softmax, and applies it (PyTorch's figures from
    tests/lit/inputs/activations/export.py)."""
    inputs = ROOT / "tests" / "lit" / "inputs" / "activations"
    x = np.load(inputs / "input.npy")
    program = orn.compile(
        inputs / "softmax-head.ts.onnx", params="bootstrap-test", calibration=x
    )
    assert program.client_output == "softmax"
    y, _ = program.run_encrypted(x[0] if x.ndim > 2 else x, seed=1)
    np.testing.assert_allclose(y.reshape(-1), [0.1324, -0.0580, 0.1542], atol=1e-4)
    p = program.apply_client_output(y)
    np.testing.assert_allclose(p.reshape(-1), [0.3510, 0.2902, 0.3588], atol=1e-4)
    mlp_like = orn.compile(EXAMPLES / "mnist-mlp" / "mlp.onnx")
    assert mlp_like.client_output is None
