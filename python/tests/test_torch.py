"""A torch.nn.Module compiled directly (exported inside with
torch.onnx.export); skipped where torch is not installed."""

import numpy as np
import pytest

import orion_rs as orn

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")


class Square(torch.nn.Module):
    def forward(self, x):
        return x * x


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_torch_module_to_decrypted_prediction(exporter):
    if exporter == "dynamo":
        pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 16), Square(), torch.nn.Linear(16, 4)
    )
    program = orn.compile(net, torch.zeros(1, 1, 8, 8), params="mnist-mlp", torch_exporter=exporter)
    client = orn.Client(program)
    client.keygen(seed=1, quiet=True)
    server = orn.Server(program, client.evaluation_keys())
    x = np.random.default_rng(0).normal(size=(1, 1, 8, 8)).astype(np.float32)
    y = client.decrypt(server.evaluate(client.encrypt(x)))
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(y - want)) < 1e-2 * max(1.0, np.max(np.abs(want)))
