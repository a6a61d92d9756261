#!/usr/bin/env python3
"""The CKKS operations of ckks/examples/ckks_ops.rs through the peers, at
Orion's ResNet parameters (N = 2^16, 10 levels of 40 bits over a 55-bit q0,
scale 2^40, Hamming-weight-192 ternary secret), one operation at a time.

    python3.10 examples/bench/ckks_peers.py --peer openfhe  [--level top|5] [--reps R]
    python3.11 examples/bench/ckks_peers.py --peer lattigo  [--level top|5] [--reps R]

OpenFHE (openfhe-python 1.x wheels, Python 3.10): threads via OMP_NUM_THREADS.
Lattigo v6: the shared library compiled inside `pip install orion-fhe`,
reached through Orion's Python backend (orion.backend.lattigo.bindings,
the same ctypes bindings Orion's own inference uses). Lattigo's evaluator
is single-threaded per operation, so its figures do not depend on threads.

Output lines have the format of ckks_ops: `op NAME median X ms min Y max Z
reps R load L`, so that compare_ckks.sh can join them; an operation the
peer cannot do prints `op NAME n/a: reason`.
"""
import argparse
import ctypes
import math
import os
import statistics
import sys
import time

SLOTS = 1 << 15
N1 = N2 = 12  # BSGS: 144 diagonals
CHEB = [1.0 / (1.0 + i) ** 2 for i in range(32)]


def load1():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return float("nan")


def timeit(f, reps):
    load = load1()
    f()  # warm-up
    t = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        t.append((time.perf_counter() - s) * 1e3)
    return statistics.median(t), min(t), max(t), load


def report(name, reps, r):
    print(f"op {name:<28} median {r[0]:10.3f} ms  min {r[1]:10.3f}  max {r[2]:10.3f}  "
          f"reps {reps:3d}  load {r[3]:.2f}", flush=True)


def na(name, why):
    print(f"op {name:<28} n/a: {why}", flush=True)


def bits(got, want):
    e = max(abs(a - b) for a, b in zip(got, want))
    return -math.log2(e) if e > 0 else float("inf")


def vectors():
    v = [((i * 7919) % 1000) / 1000.0 - 0.5 for i in range(SLOTS)]
    w = [((i * 104729) % 997) / 997.0 - 0.5 for i in range(SLOTS)]
    return v, w


def diag(d, k):
    return (((d * 31 + k * 17) % 101) / 101.0 - 0.5) / 16.0


def cheb_ref(x, c):
    t0, t1 = 1.0, x
    s = c[0] + c[1] * x
    for ci in c[2:]:
        t0, t1 = t1, 2 * x * t1 - t0
        s += ci * t1
    return s


# --------------------------------------------------------------------- OpenFHE
def run_openfhe(level, reps, heavy):
    import openfhe as of

    p = of.CCParamsCKKSRNS()
    p.SetRingDim(1 << 16)
    p.SetBatchSize(SLOTS)
    p.SetMultiplicativeDepth(10)
    p.SetFirstModSize(55)
    p.SetScalingModSize(40)
    p.SetScalingTechnique(of.FIXEDMANUAL)
    p.SetKeySwitchTechnique(of.HYBRID)
    p.SetNumLargeDigits(4)  # dnum = ceil(11 / 3) as ours
    p.SetSecretKeyDist(of.SPARSE_TERNARY)
    p.SetSecurityLevel(of.HEStd_128_classic)
    cc = of.GenCryptoContext(p)
    for f in (of.PKESchemeFeature.PKE, of.PKESchemeFeature.KEYSWITCH,
              of.PKESchemeFeature.LEVELEDSHE, of.PKESchemeFeature.ADVANCEDSHE):
        cc.Enable(f)
    print(f"== OpenFHE {getattr(of, '__version__', '?')}: ring dim {cc.GetRingDimension()}, "
          f"log2 Q = {math.log2(int(cc.GetModulus())):.1f}, FIXEDMANUAL, first mod 55, scaling mod 40, "
          f"depth 10, HYBRID dnum 4 (P chosen by OpenFHE), SPARSE_TERNARY secret, HEStd_128_classic, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    top = 10
    lvl = top if level is None else level
    drop = top - lvl  # OpenFHE counts levels consumed
    t0 = time.perf_counter()
    kp = cc.KeyGen()
    cc.EvalMultKeyGen(kp.secretKey)
    giants = [N1 * j for j in range(2, N2)]
    cc.EvalRotateKeyGen(kp.secretKey, list(range(1, 17)) + giants)
    print(f"keygen: {(time.perf_counter() - t0) * 1e3:.0f} ms", flush=True)

    v, w = vectors()
    pt_v = cc.MakeCKKSPackedPlaintext(v, 1, drop)
    pt_w = cc.MakeCKKSPackedPlaintext(w, 1, drop)
    ct_v = cc.Encrypt(kp.publicKey, pt_v)
    ct_w = cc.Encrypt(kp.publicKey, pt_w)
    prod = cc.EvalMult(ct_v, ct_w)

    def dec(ct):
        pt = cc.Decrypt(ct, kp.secretKey)
        pt.SetLength(SLOTS)
        return pt.GetRealPackedValue()

    report("encode", reps, timeit(lambda: cc.MakeCKKSPackedPlaintext(v, 1, drop), reps))
    report("encrypt (pk)", reps, timeit(lambda: cc.Encrypt(kp.publicKey, pt_v), reps))
    report("decrypt + decode", reps, timeit(lambda: dec(ct_v), reps))
    report("add", reps, timeit(lambda: cc.EvalAdd(ct_v, ct_w), reps))
    report("mul + relin", reps, timeit(lambda: cc.EvalMult(ct_v, ct_w), reps))
    report("rescale", reps, timeit(lambda: cc.Rescale(prod), reps))
    report("mul + relin + rescale", reps, timeit(lambda: cc.Rescale(cc.EvalMult(ct_v, ct_w)), reps))
    report("mul_plain + rescale", reps, timeit(lambda: cc.Rescale(cc.EvalMult(ct_v, pt_w)), reps))
    report("rotate (1 step)", reps, timeit(lambda: cc.EvalRotate(ct_v, 1), reps))
    m = cc.GetCyclotomicOrder()

    def hoisted(ct, steps):
        pre = cc.EvalFastRotationPrecompute(ct)
        return [ct if s == 0 else cc.EvalFastRotation(ct, s, m, pre) for s in steps]

    r = timeit(lambda: hoisted(ct_v, range(1, 17)), reps)
    report("hoisted rotate x16 (total)", reps, r)
    report("hoisted rotate x16 (per rot)", reps, (r[0] / 16, r[1] / 16, r[2] / 16, r[3]))

    # BSGS composed from the same public ops as ours (OpenFHE's
    # EvalLinearTransform is internal to bootstrapping, not in the Python API).
    pts = [[cc.MakeCKKSPackedPlaintext(
        [diag(N1 * j + i, (k - N1 * j) % SLOTS) for k in range(SLOTS)], 1, drop)
        for i in range(N1)] for j in range(N2)]

    def bsgs(ct):
        rots = hoisted(ct, range(N1))
        acc = None
        for j in range(N2):
            inner = cc.EvalMult(rots[0], pts[j][0])
            for i in range(1, N1):
                inner = cc.EvalAdd(inner, cc.EvalMult(rots[i], pts[j][i]))
            g = inner if j == 0 else cc.EvalRotate(inner, N1 * j)
            acc = g if acc is None else cc.EvalAdd(acc, g)
        return cc.Rescale(acc)

    report("BSGS lin. transform 144 diag", heavy, timeit(lambda: bsgs(ct_v), heavy))
    y = dec(bsgs(ct_v))
    want = [sum(diag(d, k) * v[(k + d) % SLOTS] for d in range(N1 * N2)) for k in range(0, SLOTS, 64)]
    bsgs_bits = bits(y[::64], want)

    cheb_bits = float("nan")
    if lvl >= 6:
        # OpenFHE's series is c_0 / 2 + sum_{k>0} c_k T_k: pass 2 c_0.
        ch = [2 * CHEB[0]] + CHEB[1:]
        report("Chebyshev deg 31 (BSGS)", heavy,
               timeit(lambda: cc.EvalChebyshevSeries(ct_v, ch, -1.0, 1.0), heavy))
        out = cc.EvalChebyshevSeries(ct_v, ch, -1.0, 1.0)
        print(f"Chebyshev deg 31: OpenFHE EvalChebyshevSeries, levels used {out.GetLevel() - ct_v.GetLevel()}")
        cheb_bits = bits(dec(out), [cheb_ref(x, CHEB) for x in v])
    else:
        na("Chebyshev deg 31 (BSGS)", f"skipped at level {lvl}: EvalChebyshevSeries uses 6 levels for degree 31")

    print("== precision (bits = -log2 max |error|)")
    vw = [a * b for a, b in zip(v, w)]
    print(f"precision fresh encryption: {bits(dec(ct_v), v):.2f} bits "
          f"(OpenFHE's own estimate: {cc.Decrypt(ct_v, kp.secretKey).GetLogPrecision():.1f})")
    print(f"precision mul + relin + rescale: {bits(dec(cc.Rescale(prod)), vw):.2f} bits")
    print(f"precision BSGS 144 diag (every 64th slot): {bsgs_bits:.2f} bits")
    print(f"precision rotate 1: {bits(dec(cc.EvalRotate(ct_v, 1)), v[1:] + v[:1]):.2f} bits")
    if cheb_bits == cheb_bits:
        print(f"precision Chebyshev deg 31: {cheb_bits:.2f} bits")


# --------------------------------------------------------------------- Lattigo
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


def run_lattigo(level, reps, heavy):
    from orion.backend.lattigo.bindings import LattigoLibrary

    t0 = time.perf_counter()
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
    L.NewEvaluator()  # also generates the 15 power-of-two rotation keys
    L.NewPolynomialEvaluator()
    L.NewLinearTransformEvaluator()
    for s in range(1, 17):
        L.AddRotationKey(s)
    moduli = L.GetModuliChain()
    print(f"== Lattigo v6 (orion-fhe's lattigo-linux.so via orion.backend.lattigo.bindings): "
          f"LogN 16, LogQ [55, 40 x10], LogP [61 x3], LogScale 40, Ternary H=192, standard ring; "
          f"moduli {moduli}", flush=True)
    print(f"setup + keygen: {(time.perf_counter() - t0) * 1e3:.0f} ms", flush=True)
    top = 10
    lvl = top if level is None else level
    scale = 1 << 40
    v, w = vectors()
    # Encode takes float32 (C float) arrays: build them once, call the raw
    # C function so that the timing is Lattigo's, not Python list conversion.
    cv = (ctypes.c_float * SLOTS)(*v)
    cw = (ctypes.c_float * SLOTS)(*w)
    enc_raw, encr_raw = L.lib.Encode, L.lib.Encrypt

    def encode(arr, lv, sc):
        return enc_raw(arr, SLOTS, lv, ctypes.c_ulong(sc))

    pt_v, pt_w = encode(cv, lvl, scale), encode(cw, lvl, scale)
    pt_q = encode(cw, lvl, int(moduli[lvl]))  # scale q_level: exact rescale, as Orion does
    ct_v, ct_w = L.Encrypt(pt_v), L.Encrypt(pt_w)
    DelC, DelP = L.lib.DeleteCiphertext, L.lib.DeletePlaintext

    def dec(ct):
        return L.Decode(L.Decrypt(ct))[:SLOTS]

    def once(f):
        def g():
            DelC(f())
        return g

    report("encode", reps, timeit(lambda: DelP(encode(cv, lvl, scale)), reps))
    report("encrypt (pk)", reps, timeit(lambda: DelC(encr_raw(pt_v)), reps))
    report("decrypt + decode", reps, timeit(lambda: dec(ct_v), reps))
    report("add", reps, timeit(once(lambda: L.lib.AddCiphertextNew(ct_v, ct_w)), reps))
    report("mul + relin", reps, timeit(once(lambda: L.lib.MulRelinCiphertextNew(ct_v, ct_w)), reps))
    prod = L.lib.MulRelinCiphertextNew(ct_v, ct_w)
    # Orion's Rescale/RescaleNew work in place; time the rescale of a fresh copy
    # minus the copy (AddScalarNew-free copy: MulRelin output, then rescale it).
    def mr_rescale():
        c = L.lib.MulRelinCiphertextNew(ct_v, ct_w)
        L.lib.Rescale(c)
        DelC(c)
    def mr_only():
        DelC(L.lib.MulRelinCiphertextNew(ct_v, ct_w))
    r_mr = timeit(mr_rescale, reps)
    r_m = timeit(mr_only, reps)
    report("rescale", reps, (r_mr[0] - r_m[0], float("nan"), float("nan"), r_mr[3]))
    print("   (Lattigo rescale = median(mul+relin+rescale) - median(mul+relin): Orion's bindings only rescale in place)")
    report("mul + relin + rescale", reps, r_mr)

    def mp_rescale():
        c = L.lib.MulPlaintextNew(ct_v, pt_q)
        L.lib.Rescale(c)
        DelC(c)
    report("mul_plain + rescale", reps, timeit(mp_rescale, reps))
    report("rotate (1 step)", reps, timeit(once(lambda: L.lib.RotateNew(ct_v, 1)), reps))
    na("hoisted rotate x16 (total)", "Orion's Lattigo bindings export no hoisted rotation (only inside EvaluateLinearTransform)")
    na("hoisted rotate x16 (per rot)", "see above")

    # BSGS: Lattigo's own lintrans (hoisted, double-hoisted BSGS) via Orion's
    # GenerateLinearTransform / EvaluateLinearTransform, + one Rescale.
    idx = list(range(N1 * N2))
    flat = []
    for d in idx:
        flat.extend(diag(d, k) for k in range(SLOTS))
    lt = L.GenerateLinearTransform(idx, flat, lvl, 2.0, "none")
    for g in L.GetLinearTransformRotationKeys(lt):
        L.GenerateLinearTransformRotationKey(g)

    def lintrans():
        c = L.lib.EvaluateLinearTransform(lt, ct_v)
        L.lib.Rescale(c)
        return c
    report("BSGS lin. transform 144 diag", heavy, timeit(lambda: DelC(lintrans()), heavy))
    c = lintrans()
    y = dec(c)
    DelC(c)
    want = [sum(diag(d, k) * v[(k + d) % SLOTS] for d in idx) for k in range(0, SLOTS, 64)]
    bsgs_bits = bits(y[::64], want)

    cheb_bits = float("nan")
    if lvl >= 5:  # depth ceil(log2(32)) = 5, as ours
        poly = L.GenerateChebyshev(CHEB)
        report("Chebyshev deg 31 (BSGS)", heavy,
               timeit(once(lambda: L.lib.EvaluatePolynomial(ct_v, poly, ctypes.c_ulong(scale))), heavy))
        out = L.lib.EvaluatePolynomial(ct_v, poly, ctypes.c_ulong(scale))
        print(f"Chebyshev deg 31: Lattigo polynomial.Evaluator, level {lvl} -> {L.GetCiphertextLevel(out)}")
        cheb_bits = bits(dec(out), [cheb_ref(x, CHEB) for x in v])
    else:
        na("Chebyshev deg 31 (BSGS)", f"skipped at level {lvl}: needs 5 levels")

    print("== precision (bits = -log2 max |error|; inputs pass through float32 in Orion's bindings)")
    vw = [a * b for a, b in zip(v, w)]
    L.lib.Rescale(prod)
    print(f"precision fresh encryption: {bits(dec(ct_v), v):.2f} bits")
    print(f"precision mul + relin + rescale: {bits(dec(prod), vw):.2f} bits")
    print(f"precision BSGS 144 diag (every 64th slot): {bsgs_bits:.2f} bits")
    if cheb_bits == cheb_bits:
        print(f"precision Chebyshev deg 31: {cheb_bits:.2f} bits")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", choices=["openfhe", "lattigo"], required=True)
    ap.add_argument("--level", default="top")
    ap.add_argument("--reps", type=int, default=21)
    a = ap.parse_args()
    level = None if a.level == "top" else int(a.level)
    heavy = max(3, a.reps // 3)
    print(f"== ckks_peers {a.peer}: level {a.level}, reps {a.reps}, "
          f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}", flush=True)
    (run_openfhe if a.peer == "openfhe" else run_lattigo)(level, a.reps, heavy)


if __name__ == "__main__":
    sys.exit(main())
