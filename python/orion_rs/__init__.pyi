"""Type stubs of orion_rs (the native module and its Python wrapper)."""

import os
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

__version__: str

class OrionError(Exception):
    """An input, program, key or ciphertext Orion-RS refuses; the message is
    the tools' one-line diagnostic."""

def presets() -> list[str]:
    """The names of the CKKS parameter presets."""

def compile(
    model: Union[str, os.PathLike[str], bytes, Any],
    example_input: Any = None,
    *,
    calibration: Optional[npt.ArrayLike] = None,
    params: str = "mnist-mlp",
    output_bound: Optional[float] = None,
    calibration_margin: Optional[float] = None,
    embedding: str = "hybrid",
    torch_exporter: str = "auto",
) -> Program:
    """Compiles an ONNX model (path or bytes) or a torch.nn.Module to a CKKS
    program."""

def compile_onnx(
    onnx: bytes,
    *,
    params: str = "mnist-mlp",
    calibration: Optional[npt.NDArray[np.float64]] = None,
    calibration_margin: Optional[float] = None,
    output_bound: Optional[float] = None,
    embedding: str = "hybrid",
    name: str = "model.onnx",
    model_dir: Optional[str] = None,
) -> Program:
    """The native compiler entry point behind `compile`."""

class Program:
    """A compiled CKKS program."""

    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> Program:
        """Reads a compiled program (.ckks.mlir)."""
    @staticmethod
    def parse(text: str, name: str = "<string>") -> Program:
        """Parses a compiled program's text."""
    @property
    def input_shape(self) -> list[int]: ...
    @property
    def name(self) -> str: ...
    @property
    def bootstraps(self) -> int:
        """Bootstraps one inference runs."""
    @property
    def client_output(self) -> Optional[str]:
        """The network's final op left to the client ("softmax" or
        "log_softmax"), or None; the program returns logits either way."""
    def apply_client_output(self, logits: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """client_output applied to decrypted logits (the logits if none)."""
    def stats(self) -> str:
        """Per-layer packing statistics (orion-opt --stats)."""
    def ir(self, level: str = "ckks", generic: bool = False) -> str:
        """The IR at level "nn", "pack" or "ckks" as MLIR text."""
    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes the ckks program (what orion-run and Program.load read)."""
    def run_clear(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The output on x by the cleartext ckks interpreter."""
    def run_encrypted(
        self, x: npt.ArrayLike, *, seed: Optional[int] = None, quiet: bool = True
    ) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
        """Keygen, encrypt, evaluate, decrypt in one call; and a report
        (max_abs_error, bits, bits_per_output, class, clear_class, seconds)."""

class Ciphertext:
    """Ciphertexts of one input or one result, under one key set."""

    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(program: Program, data: bytes) -> Ciphertext: ...
    @property
    def key_id(self) -> str: ...
    def __len__(self) -> int: ...

class Client:
    """Holds the secret key: keygen, encrypt, decrypt."""

    def __init__(
        self,
        program: Program,
        *,
        secret_key: Union[bytes, str, os.PathLike[str], None] = None,
        public_key: Union[bytes, str, os.PathLike[str], None] = None,
        seed: Optional[int] = None,
    ) -> None: ...
    def keygen(self, *, seed: Optional[int] = None, quiet: bool = False) -> None: ...
    @property
    def key_id(self) -> str: ...
    def encrypt(self, x: npt.ArrayLike) -> Ciphertext: ...
    def decrypt(self, ct: Ciphertext) -> npt.NDArray[np.float64]: ...
    def evaluation_keys(self, path: Union[str, os.PathLike[str], None] = None) -> Optional[bytes]: ...
    def secret_key(self, path: Union[str, os.PathLike[str], None] = None) -> Optional[bytes]: ...
    def public_key(self, path: Union[str, os.PathLike[str], None] = None) -> Optional[bytes]: ...

class Server:
    """Evaluates with evaluation keys only."""

    def __init__(
        self,
        program: Program,
        evaluation_keys: Union[bytes, str, os.PathLike[str]],
        *,
        quiet: bool = True,
    ) -> None: ...
    @property
    def key_id(self) -> str: ...
    def evaluate(self, ct: Ciphertext) -> Ciphertext: ...
