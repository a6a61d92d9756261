#!/usr/bin/env python3
"""Lattigo v6's bootstrapping through Orion's Python API (the lattigo-linux.so
compiled inside `pip install orion-fhe`, reached with the same ctypes
bindings Orion's inference uses), at Orion's ResNet parameters: LogN 16,
LogQ [55, 40 x 10], LogP [61, 61, 61], LogScale 40, ternary H = 192, and
2^15 slots (or 2^k sparse slots with --log-slots k, as Orion bootstraps
small tensors). This is what Orion's own `bootstrap` does: `NewBootstrapper`
builds Lattigo's default bootstrapping parameters over that residual chain
(CoeffsToSlots 4 x 56, EvalMod 8 x 60, SlotsToCoeffs 3 x 39, ephemeral
secret H = 32) with the bootstrapping LogP given here, and generates its
keys; `Bootstrap` bootstraps one ciphertext.

    python3.11 examples/bench/lattigo_bootstrap.py [--reps 3] [--log-slots 15] [--logp 61,61,61,61,61]

Prints the key generation time (NewBootstrapper), each bootstrap time,
the median, the precision in bits (-log2 of the mean and of the max
absolute error over the real slots, inputs uniform in [-1, 1]; the
bindings pass values as 32-bit floats, so the reference is the float32
input) and the peak resident memory (ru_maxrss). Needs about 21 GB.
"""
import argparse
import ctypes
import math
import random
import resource
import statistics
import time


class _Params:
    """The accessors that Orion's LattigoLibrary.setup_bindings reads."""
    def get_logn(self): return 16
    def get_logq(self): return [55] + [40] * 10
    def get_logp(self): return [61, 61, 61]
    def get_logscale(self): return 40
    def get_hamming_weight(self): return 192
    def get_ringtype(self): return "standard"
    def get_keys_path(self): return ""
    def get_io_mode(self): return "none"


def load1():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    # Lattigo's default bootstrapping LogP: 61 x floor(sqrt(#Q)) = 5 primes.
    ap.add_argument("--logp", default="61,61,61,61,61")
    ap.add_argument("--log-slots", type=int, default=15)
    a = ap.parse_args()
    slots = 1 << a.log_slots
    logp = [int(x) for x in a.logp.split(",")]

    from orion.backend.lattigo.bindings import LattigoLibrary

    L = LattigoLibrary()
    L.setup_bindings(_Params())
    L.NewKeyGenerator()
    L.GenerateSecretKey()
    L.GeneratePublicKey()
    L.GenerateRelinearizationKey()
    L.GenerateEvaluationKeys()
    L.NewEncoder()
    L.NewEncryptor()
    L.NewDecryptor()
    L.NewEvaluator()

    load = load1()
    t = time.perf_counter()
    L.NewBootstrapper((ctypes.c_int * len(logp))(*logp), len(logp), slots)
    keygen = time.perf_counter() - t
    print(f"lattigo keygen: {keygen:.2f} s (NewBootstrapper, LogP {logp}, 2^{a.log_slots} slots) "
          f"load {load:.2f}", flush=True)

    rng = random.Random(1)
    vals = [rng.uniform(-1.0, 1.0) for _ in range(slots)]
    carr = (ctypes.c_float * slots)(*vals)
    want = list(carr)  # the float32 values Lattigo actually encodes
    pt = L.lib.Encode(carr, slots, 0, ctypes.c_ulong(1 << 40))
    ct = L.Encrypt(pt)

    times, out = [], None
    for r in range(a.reps):
        load = load1()
        t = time.perf_counter()
        o = L.lib.Bootstrap(ct, slots)
        dt = time.perf_counter() - t
        times.append(dt)
        print(f"lattigo bootstrap {r}: {dt:.3f} s load {load:.2f}", flush=True)
        if out is not None:
            L.lib.DeleteCiphertext(out)
        out = o
    got = L.Decode(L.Decrypt(out))[:slots]
    errs = [abs(x - y) for x, y in zip(got, want)]
    mean = sum(errs) / len(errs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"lattigo summary: bootstrap median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f} max {max(times):.3f}, {len(times)} reps) keygen {keygen:.2f} s "
          f"precision mean {-math.log2(mean):.2f} bits min {-math.log2(max(errs)):.2f} bits "
          f"peak RSS {peak:.0f} MB output level {L.GetCiphertextLevel(out)}", flush=True)


if __name__ == "__main__":
    main()
