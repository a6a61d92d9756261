#!/usr/bin/env python3
"""Key-switch and plaintext-diagonal counts of Orion's packing for CIFAR ResNet-18.

What it does
------------
Orion (ASPLOS 2025; `orion-fhe` on PyPI, github.com/baahl-nyu/orion) turns
every convolution, average pool and fully-connected layer into ONE matrix
acting on its multiplexed ("single-shot multiplexed") layout, cuts that
matrix into slots x slots blocks, and hands each block to Lattigo v6's
`lintrans` (baby-step giant-step with hoisted baby steps).  Running Orion's
own packer on ResNet-18 at N = 2^16 is not practical here: it densifies every
32768 x 32768 block (4 GiB of float32, then copies it), so this script
re-derives, with numpy only, the same numbers from the same rules:

  * layout: Orion's multiplexing (pixel_shuffle with gap g; a stride-s layer
    multiplies the gap by s; the FHE shape is (ceil(C/g^2), max(H_in, H_out*g),
    max(W_in, W_out*g)); the first layer starts at gap 1);
  * matrix: the Toeplitz-like matrix Orion builds (rows = multiplexed output
    positions, columns = multiplexed input positions, padding columns dropped;
    the global average pool is a depthwise conv with a kernel covering the
    whole map; the last Linear reads the pool's multiplexed output);
  * blocks: ceil(rows/slots) x ceil(cols/slots) blocks.  With the "hybrid"
    embedding (Orion's ResNet config) a matrix whose rows fit in ONE block and
    that is not the network's last linear layer uses a block of height
    h = next_pow2(rows): diagonal d holds entries with (col - row) mod h == d,
    and log2(slots/h) rotate-and-sum rotations fold the result afterwards.
    Otherwise (square embedding, or several row blocks, or the last layer)
    diagonal d holds entries with (col - row) mod slots == d;
  * a diagonal counts if it has any nonzero entry (trained weights have no
    zero taps, so the support of the weight tensor decides); an all-zero
    block still gets a dummy diagonal 0 that is encoded and multiplied;
  * BSGS: Orion passes bsgs_ratio = 2 as LogBabyStepGiantStepRatio =
    int(ln 2) = 0, so Lattigo's FindBestBSGSRatio searches N1 = 1, 2, 4, ...
    for (#babies-1)/(#giants-1) reaching 1; diagonal d is giant d - d%N1 and
    baby d%N1; every nonzero baby index is one hoisted key switch and every
    nonzero giant index one key switch;
  * evaluation: Orion evaluates every (output block, input block) pair as its
    own Lattigo linear transformation (EvaluateNew per pair), so baby
    rotations are NOT shared between the output blocks that read the same
    input ciphertext, and giant rotations are paid per pair; the partial
    results of a block row are added and rescaled once (1 level per layer).
    The hybrid fold adds log2(slots/h) plain rotations on the single output
    ciphertext.

Counts are reported per layer and per distinct layer type, as a Markdown
table (and optionally JSON).

Validation (needs `pip install orion-fhe`, which brings torch and the Lattigo
shared library):
  --validate        runs Orion's own fit + packing (orion.core.packing) on
                    ResNet-18 with a 3x16x16 input at LogN 14 (8192 slots),
                    where its dense blocks are small, and compares per block
                    the nonzero-diagonal sets, the hybrid output rotations
                    and the Galois elements Lattigo reports for each block's
                    transform (GetLinearTransformRotationKeys) against this
                    script's model at the same scale;
  --check-toeplitz  at full scale (3x32x32, 2^15 slots) builds Orion's own
                    sparse matrix (packing.construct_conv2d_toeplitz /
                    construct_linear_matrix) for the layers small enough to
                    build (stem conv, the three 1x1 shortcuts, avgpool,
                    linear) and compares its nonzero pattern with ours.

Usage:
    python3 examples/bench/orion_packing_counts.py                # table, 2^15 slots
    python3 examples/bench/orion_packing_counts.py --json out.json
    python3 examples/bench/orion_packing_counts.py --per-layer    # all 22 layers
    /path/to/venv-with-orion/bin/python examples/bench/orion_packing_counts.py \\
        --validate --check-toeplitz
Options --slots, --hw and --embedding change the scale / embedding method.
Memory: the model alone stays near 0.6 GB (about 30 s on one core).
--validate at its default scale peaks near 5 GB, almost all of it Orion's own
dense packer (run it with GOGC=50); `--validate-hw 8 --validate-logn 12`
checks the same block structure in ~1.6 GB.  --check-toeplitz needs ~1.4 GB
(~3.1 GB with --toeplitz-max-nnz 2e7, which adds the three stride-2 3x3
convs).
"""
import argparse
import contextlib
import ctypes
import gc
import io
import json
import math
import sys
import time

import numpy as np


# --------------------------------------------------------------------------
# Network description and Orion's shape / gap propagation
# --------------------------------------------------------------------------

class Layer:
    """One linear layer of the network, with Orion's FHE layout attributes."""

    def __init__(self, name, kind, cin, cout, k, stride, pad, depthwise=False):
        self.name, self.kind = name, kind          # kind: conv | pool | fc
        self.cin, self.cout = cin, cout
        self.k, self.stride, self.pad = k, stride, pad
        self.depthwise = depthwise
        self.last = False

    def __repr__(self):
        return f"Layer({self.name})"


def resnet18_cifar(hw=32):
    """The 22 linear layers of CIFAR ResNet-18 in Orion's topological order,
    with shapes and multiplexing gaps propagated as Orion's tracer does."""
    layers = []
    # clear shape (C, H, W), multiplexed gap, FHE shape (C', H', W')
    state = {"shape": (3, hw, hw), "gap": 1, "fhe": (3, hw, hw)}

    def add(name, kind, cin, cout, k, stride, pad, src, depthwise=False):
        L = Layer(name, kind, cin, cout, k, stride, pad, depthwise)
        L.in_shape, L.in_gap, L.in_fhe = src["shape"], src["gap"], src["fhe"]
        _, hi, wi = L.in_shape
        if kind == "fc":
            L.out_shape, L.out_gap = (cout,), 1
            L.out_fhe = (cout,)
        else:
            ho = (hi + 2 * pad - k) // stride + 1
            wo = (wi + 2 * pad - k) // stride + 1
            L.out_shape = (cout, ho, wo)
            L.out_gap = L.in_gap * stride
            g = L.out_gap
            L.out_fhe = (math.ceil(cout / g ** 2), max(hi, ho * g), max(wi, wo * g))
        layers.append(L)
        return {"shape": L.out_shape, "gap": L.out_gap, "fhe": L.out_fhe}

    x = add("conv1", "conv", 3, 64, 3, 1, 1, state)
    cin = 64
    for s, cout in enumerate([64, 128, 256, 512]):
        for b in range(2):
            stride = 2 if (s > 0 and b == 0) else 1
            pre = f"layers.{s}.{b}"
            h = add(f"{pre}.conv1", "conv", cin, cout, 3, stride, 1, x)
            h = add(f"{pre}.conv2", "conv", cout, cout, 3, 1, 1, h)
            if stride != 1 or cin != cout:
                add(f"{pre}.shortcut.0", "conv", cin, cout, 1, stride, 0, x)
            x, cin = h, cout
    # AdaptiveAvgPool2d((1,1)): Orion makes it a depthwise conv with
    # stride = H_in // 1 and kernel = H_in (so the gap grows by H_in).
    hi = x["shape"][1]
    x = add("avgpool", "pool", 512, 512, hi, hi, 0, x, depthwise=True)
    # Flatten keeps the layout; Linear reads the multiplexed (512,1,1) tensor.
    add("linear", "fc", 512, 10, 1, 1, 0, x)
    layers[-1].last = True
    return layers


def matrix_dims(L):
    n_cols = int(np.prod(L.in_fhe))
    n_rows = L.cout if L.kind == "fc" else int(np.prod(L.out_fhe))
    return n_rows, n_cols


# --------------------------------------------------------------------------
# Nonzero pattern of Orion's matrix (chunked COO generator)
# --------------------------------------------------------------------------

def mpx_flat(c, h, w, gap, fhe_hw):
    """Flat index of clear element (c, h, w) in a gap-multiplexed tensor of
    FHE spatial size fhe_hw (pixel_shuffle order)."""
    H, W = fhe_hw
    g2 = gap * gap
    return (c // g2) * (H * W) + (h * gap + (c % g2) // gap) * W + (w * gap + c % gap)


def entries(L, chunk_elems=6_000_000):
    """Yield (rows, cols) int64 arrays covering the nonzero entries of the
    layer's matrix, in chunks of output channels."""
    if L.kind == "fc":
        ci, hi, wi = L.in_shape
        c = np.arange(ci)
        col = mpx_flat(c, 0 * c, 0 * c, L.in_gap, L.in_fhe[1:])
        assert hi == wi == 1
        rows = np.repeat(np.arange(L.cout), ci)
        cols = np.tile(col, L.cout)
        yield rows.astype(np.int64), cols.astype(np.int64)
        return

    ci_n, hi, wi = L.in_shape
    _, ho, wo = L.out_shape
    iG, oG = L.in_gap, L.out_gap
    k, s, P = L.k, L.stride, L.pad
    on_hi, on_wi = L.in_fhe[1:]
    on_ho, on_wo = L.out_fhe[1:]
    hp = on_hi + 2 * P * iG                  # padded multiplexed height
    wp = on_wi + 2 * P * iG

    oh, ow = np.meshgrid(np.arange(ho), np.arange(wo), indexing="ij")
    oh, ow = oh.ravel(), ow.ravel()                                   # (S,)
    kh, kw = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    kh, kw = kh.ravel(), kw.ravel()                                   # (T,)

    per_co = (1 if L.depthwise else ci_n) * k * k * ho * wo
    step = max(1, chunk_elems // max(per_co, 1))
    for co0 in range(0, L.cout, step):
        co = np.arange(co0, min(L.cout, co0 + step))
        if L.depthwise:
            ci = co[:, None]                                          # (C,1)
        else:
            ci = np.broadcast_to(np.arange(ci_n)[None, :], (len(co), ci_n))
        # output row of (co, oh, ow)
        row = mpx_flat(co[:, None], oh[None, :], ow[None, :], oG, (on_ho, on_wo))  # (C,S)
        # padded multiplexed input coordinates touched by tap (kh, kw)
        sub_i = (ci % (iG * iG)) // iG                                 # (C,I)
        sub_j = ci % iG
        y = (oh[None, None, None, :] * oG + kh[None, None, :, None] * iG
             + sub_i[:, :, None, None])                              # (C,I,T,S)
        x = (ow[None, None, None, :] * oG + kw[None, None, :, None] * iG
             + sub_j[:, :, None, None])
        assert y.max() < hp and x.max() < wp, "kernel window would wrap"
        keep = ((y >= P * iG) & (y < P * iG + on_hi) &
                (x >= P * iG) & (x < P * iG + on_wi))
        col = ((ci // (iG * iG))[:, :, None, None] * (on_hi * on_wi)
               + (y - P * iG) * on_wi + (x - P * iG))
        rr = np.broadcast_to(row[:, None, None, :], col.shape)
        yield rr[keep].astype(np.int64), col[keep].astype(np.int64)


# --------------------------------------------------------------------------
# Orion's block split + diagonal extraction, Lattigo's BSGS
# --------------------------------------------------------------------------

def block_plan(L, slots, embedding):
    n_rows, n_cols = matrix_dims(L)
    nbr = math.ceil(n_rows / slots)
    nbc = math.ceil(n_cols / slots)
    if nbr == 1 and embedding == "hybrid" and not L.last:
        height = 2 ** math.ceil(math.log2(n_rows))
        out_rot = int(math.log2(slots // height))
    else:
        height, out_rot = slots, 0
    return nbr, nbc, height, out_rot


def diagonal_sets(L, slots, embedding):
    """{(block_row, block_col): sorted array of nonzero diagonal indices}."""
    nbr, nbc, height, _ = block_plan(L, slots, embedding)
    mark = np.zeros((nbr, nbc, height), dtype=bool)
    for r, c in entries(L):
        br, bc = r // slots, c // slots
        d = (c % slots - r % slots) % height
        mark[br, bc, d] = True
    return {(i, j): np.flatnonzero(mark[i, j])
            for i in range(nbr) for j in range(nbc)}


def bsgs_index(diags, slots, n1):
    """Lattigo BSGSIndex: (giant indices, baby indices) as sorted arrays."""
    d = np.asarray(diags, dtype=np.int64) & (slots - 1)
    giants = np.unique(((d // n1) * n1) & (slots - 1))
    babies = np.unique(d & (n1 - 1))
    return giants, babies


def best_n1(diags, slots, log_ratio=0):
    """Lattigo FindBestBSGSRatio (float division semantics of Go)."""
    max_ratio = float(1 << log_ratio)
    n1 = 1
    while n1 < slots:
        giants, babies = bsgs_index(diags, slots, n1)
        nb_g, nb_b = len(giants) - 1, len(babies) - 1
        if nb_g == 0:
            ratio = math.nan if nb_b == 0 else math.inf
        else:
            ratio = nb_b / nb_g
        if ratio == max_ratio:
            return n1
        if ratio > max_ratio:
            return n1 // 2
        n1 <<= 1
    return 1


def bsgs_ratio_to_log(bsgs_ratio=2.0):
    # Orion's lineartransform.go: int(math.Log(float64(bsgsRatio))) (natural log)
    return int(math.log(bsgs_ratio))


def count_layer(L, slots, embedding, bsgs_ratio=2.0):
    nbr, nbc, height, out_rot = block_plan(L, slots, embedding)
    sets = diagonal_sets(L, slots, embedding)
    log_ratio = bsgs_ratio_to_log(bsgs_ratio)
    res = {"name": L.name, "blocks": [nbr, nbc], "block_height": height,
           "out_rot": out_rot, "diagonals": 0, "dummy_blocks": 0,
           "baby": 0, "giant": 0, "rotations": set(), "per_block": []}
    for (i, j), d in sorted(sets.items()):
        if len(d) == 0:                     # Orion stores {0: zeros}
            res["dummy_blocks"] += 1
            d_eff = np.array([0])
        else:
            d_eff = d
        n1 = best_n1(d_eff, slots, log_ratio)
        giants, babies = bsgs_index(d_eff, slots, n1)
        nb = int(np.count_nonzero(babies))
        ng = int(np.count_nonzero(giants))
        res["diagonals"] += len(d)
        res["baby"] += nb
        res["giant"] += ng
        res["rotations"].update(int(v) for v in np.concatenate([giants, babies]) if v)
        res["per_block"].append({"block": [i, j], "diagonals": int(len(d)), "n1": n1,
                                 "baby": nb, "giant": ng})
    res["rotations"].update(slots >> t for t in range(1, out_rot + 1))
    n_rows, n_cols = matrix_dims(L)
    res["cts_in"] = math.ceil(n_cols / slots)
    res["cts_out"] = nbr
    res["key_switches"] = res["baby"] + res["giant"] + out_rot * nbr
    res["levels"] = 1
    res["matrix"] = [n_rows, n_cols]
    return res


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def layer_type(L):
    if L.kind == "fc":
        return f"linear {L.cin}->{L.cout}"
    if L.kind == "pool":
        return f"global avgpool {L.cin}x{L.in_shape[1]}x{L.in_shape[2]} -> {L.cin}"
    if L.name == "conv1":
        return f"conv1 {L.cin}->{L.cout} 3x3"
    if L.k == 1:
        return f"shortcut 1x1 s{L.stride} {L.cin}->{L.cout}"
    s = f" s{L.stride}" if L.stride > 1 else ""
    return f"{L.cin}->{L.cout} 3x3{s}"


def run_model(slots, hw, embedding, verbose=True):
    layers = resnet18_cifar(hw)
    results = []
    for L in layers:
        t0 = time.time()
        r = count_layer(L, slots, embedding)
        r["type"] = layer_type(L)
        r["layer"] = L
        results.append(r)
        if verbose:
            print(f"  {L.name:24s} blocks {r['blocks']} h={r['block_height']:6d} "
                  f"diags {r['diagonals']:6d} baby {r['baby']:5d} giant {r['giant']:5d} "
                  f"out {r['out_rot']} KS {r['key_switches']:6d}  [{time.time()-t0:.1f}s]",
                  file=sys.stderr, flush=True)
    return results


def group_types(results):
    groups = {}
    for r in results:
        g = groups.setdefault(r["type"], {"n": 0, "rows": []})
        g["n"] += 1
        g["rows"].append(r)
    for t, g in groups.items():
        keys = ("diagonals", "baby", "giant", "out_rot", "key_switches", "cts_in", "cts_out")
        first = g["rows"][0]
        g["uniform"] = all(all(r[k] == first[k] for k in keys) for r in g["rows"])
    return groups


def markdown(results, slots):
    groups = group_types(results)
    out = ["| layer type | count | cts in->out | blocks (rows x cols), height | N1 per block | "
           "diagonals | baby rot | giant rot | output rot | key switches / layer | "
           "key switches (all) | levels |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    tot = {"diagonals": 0, "baby": 0, "giant": 0, "out_rot": 0, "key_switches": 0, "levels": 0}
    for t, g in groups.items():
        r = g["rows"][0]
        n = g["n"]
        n1s = sorted({b["n1"] for b in r["per_block"]})
        hstr = "" if r["block_height"] == slots else f", h={r['block_height']}"
        note = "" if g["uniform"] else " (varies)"
        out.append(
            f"| {t} | {n} | {r['cts_in']}->{r['cts_out']} | "
            f"{r['blocks'][0]}x{r['blocks'][1]}{hstr} | {','.join(map(str, n1s))} | "
            f"{r['diagonals']} | {r['baby']} | {r['giant']} | {r['out_rot']} | "
            f"{r['key_switches']}{note} | {sum(x['key_switches'] for x in g['rows'])} | 1 |")
        for k in ("diagonals", "baby", "giant", "key_switches"):
            tot[k] += sum(x[k] for x in g["rows"])
        tot["out_rot"] += sum(x["out_rot"] * x["cts_out"] for x in g["rows"])
        tot["levels"] += n
    rots = set()
    for r in results:
        rots |= r["rotations"]
    out.append(f"| **network total** | {len(results)} | | | | {tot['diagonals']} | {tot['baby']} | "
               f"{tot['giant']} | {tot['out_rot']} | | **{tot['key_switches']}** | "
               f"{tot['levels']} |")
    out.append("")
    out.append(f"Distinct rotation amounts (Galois keys) over the network: {len(rots)}")
    return "\n".join(out), tot, len(rots)


# --------------------------------------------------------------------------
# Validation against Orion itself
# --------------------------------------------------------------------------

def _orion_config(logn, logq, logp):
    return {
        "ckks_params": {"LogN": logn, "LogQ": logq, "LogP": logp, "LogScale": 40,
                        "H": 192, "RingType": "standard"},
        "orion": {"margin": 2, "embedding_method": "hybrid", "backend": "lattigo",
                  "fuse_modules": True, "debug": False, "diags_path": "",
                  "keys_path": "", "io_mode": "none"},
    }


def _orion_fitted_resnet18(logn, hw, logq=(55, 40, 40), logp=(61,)):
    import torch
    import orion
    import orion.models as models
    from orion.core.network_dag import NetworkDAG
    from orion.core.fuser import Fuser

    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        scheme = orion.init_scheme(_orion_config(logn, list(logq), list(logp)))
        torch.manual_seed(0)
        net = models.ResNet18("cifar10")
        net.eval()
        orion.fit(net, torch.randn(1, 3, hw, hw))
        # The first steps of Scheme.compile(): DAG, Orion params, pooling
        # kernels, Conv/BN fusion.  Packing itself is done per layer below.
        dag = NetworkDAG(scheme.traced)
        dag.build_dag()
        for m in net.modules():
            if hasattr(m, "init_orion_params"):
                m.init_orion_params()
        for m in net.modules():
            if hasattr(m, "update_params"):
                m.update_params()
        Fuser(dag).fuse_modules()
        dag.remove_fused_batchnorms()
    return scheme, net, dag


def _our_name(fx_name):
    # torch.fx node names use '_' where module paths use '.'
    return fx_name.replace("_", ".")


def galois_element(k, logn):
    return pow(5, k, 2 << logn)


def validate_small(logn=14, hw=16):
    """Orion's own packer + Lattigo's key list versus this model, per block."""
    from orion.nn.linear import LinearTransform
    slots = 1 << (logn - 1)
    scheme, net, dag = _orion_fitted_resnet18(logn, hw)
    topo = list(dag.topological_sort())
    lin = [n for n in topo if isinstance(dag.nodes[n]["module"], LinearTransform)]
    ours = {L.name: L for L in resnet18_cifar(hw)}
    level = 0
    ok_all = True
    print(f"validate: Orion packing vs model, ResNet-18 3x{hw}x{hw}, LogN {logn} "
          f"({slots} slots)", flush=True)
    for node in lin:
        mod = dag.nodes[node]["module"]
        name = mod.name if hasattr(mod, "name") else node
        with contextlib.redirect_stdout(io.StringIO()):
            mod.generate_diagonals(last=(node == lin[-1]))
        L = ours[_our_name(name)]
        mine = diagonal_sets(L, slots, "hybrid")
        _, _, _, out_rot = block_plan(L, slots, "hybrid")
        log_ratio = bsgs_ratio_to_log(mod.bsgs_ratio)
        problems = []
        if mod.output_rotations != out_rot:
            problems.append(f"output rotations {mod.output_rotations} vs {out_rot}")
        if set(mod.diagonals) != set(mine):
            problems.append(f"block keys {sorted(mod.diagonals)} vs {sorted(mine)}")
        n_diag_orion = 0
        n_keys_checked = 0
        for key, dd in mod.diagonals.items():
            idxs = sorted(i for i, v in dd.items() if any(v))
            n_diag_orion += len(idxs)
            m = mine.get(key, np.array([], dtype=np.int64))
            if idxs != m.tolist():
                problems.append(f"block {key}: {len(idxs)} Orion diags vs {len(m)} ours")
                continue
            # Lattigo's Galois elements for this block's transform; they
            # depend on the diagonal indices only, so constant values are
            # passed to keep the encoding cheap.
            # The exported Go function is called through its raw ctypes
            # handle with numpy buffers (Orion's wrapper would first expand
            # Python lists, which costs GBs here).
            d_idx = np.array(list(dd.keys()), dtype=np.int32)
            data = np.ones(len(d_idx) * slots, dtype=np.float32)
            fn = scheme.backend.GenerateLinearTransform.func
            tid = fn(d_idx.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), len(d_idx),
                     data.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), len(data),
                     level, ctypes.c_float(mod.bsgs_ratio), b"none")
            tid = int(getattr(tid, "value", tid))
            gal = set(int(g) for g in scheme.backend.GetLinearTransformRotationKeys(tid))
            scheme.backend.DeleteLinearTransform(tid)
            del data
            d_eff = m if len(m) else np.array([0])
            n1 = best_n1(d_eff, slots, log_ratio)
            giants, babies = bsgs_index(d_eff, slots, n1)
            want = {galois_element(int(v), logn) for v in np.union1d(giants, babies)}
            if gal != want:
                problems.append(f"block {key}: Lattigo galois set ({len(gal)}) != model "
                                f"({len(want)}), N1={n1}")
            n_keys_checked += 1
        mod.diagonals = {}
        gc.collect()
        status = "OK " if not problems else "BAD"
        ok_all &= not problems
        print(f"  {status} {name:24s} blocks {len(mine)} diags {n_diag_orion:6d} "
              f"out_rot {mod.output_rotations} galois-checked {n_keys_checked}"
              + ("" if not problems else "  <- " + "; ".join(problems[:3])), flush=True)
    return ok_all


def check_toeplitz_full(hw=32, logn=16, max_nnz=4_000_000):
    """Orion's full-scale sparse matrix versus ours, for the small layers."""
    import scipy.sparse as sp
    from orion.core import packing
    from orion.nn.linear import LinearTransform
    # A tiny modulus chain: only shapes/gaps are needed, no keys beyond the
    # relinearisation key that init_scheme always makes.
    scheme, net, dag = _orion_fitted_resnet18(logn, hw, logq=(55, 40), logp=(61,))
    ours = {L.name: L for L in resnet18_cifar(hw)}
    ok_all = True
    print(f"check-toeplitz: Orion's matrix vs model at 3x{hw}x{hw}", flush=True)
    for node in dag.topological_sort():
        mod = dag.nodes[node]["module"]
        if not isinstance(mod, LinearTransform):
            continue
        L = ours[_our_name(mod.name)]
        est = (L.cout * (1 if L.depthwise else L.cin) * L.k ** 2
               * (L.out_shape[1] * L.out_shape[2] if L.kind != "fc" else 1))
        if est > max_nnz:
            print(f"  skip {mod.name:24s} (~{est/1e6:.0f}M entries: too big to build Orion's lil matrix)")
            continue
        if L.kind == "fc":
            M = packing.construct_linear_matrix(mod)
        else:
            weight = mod.on_weight
            if mod.groups > 1:
                weight = packing.resolve_grouped_conv(mod)
            M = packing.construct_conv2d_toeplitz(mod, weight)
        M = sp.coo_matrix(M)
        nz = M.data != 0
        ncol = M.shape[1]
        shape = tuple(M.shape)
        theirs = np.unique(M.row[nz].astype(np.int64) * ncol + M.col[nz])
        del M
        mine = np.unique(np.concatenate([r * ncol + c for r, c in entries(L)]))
        same = (shape == tuple(matrix_dims(L)) and theirs.shape == mine.shape
                and bool(np.all(theirs == mine)))
        ok_all &= same
        print(f"  {'OK ' if same else 'BAD'} {mod.name:24s} matrix {shape} nnz {len(theirs)}"
              + ("" if same else f" vs ours {len(mine)}, {matrix_dims(L)}"), flush=True)
        del theirs, mine
        gc.collect()
    return ok_all


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slots", type=int, default=1 << 15)
    ap.add_argument("--hw", type=int, default=32, help="input height/width")
    ap.add_argument("--embedding", choices=["hybrid", "square"], default="hybrid")
    ap.add_argument("--json", help="write per-layer results here")
    ap.add_argument("--per-layer", action="store_true", help="also print all layers")
    ap.add_argument("--validate", action="store_true",
                    help="compare with Orion's own packer (default 3x16x16, LogN 14)")
    ap.add_argument("--validate-hw", type=int, default=16)
    ap.add_argument("--validate-logn", type=int, default=14)
    ap.add_argument("--check-toeplitz", action="store_true",
                    help="compare Orion's full-scale sparse matrices (small layers)")
    ap.add_argument("--toeplitz-max-nnz", type=float, default=4e6,
                    help="largest layer (entries) for which Orion's lil matrix is built")
    ap.add_argument("--no-model", action="store_true", help="skip the full-scale count")
    args = ap.parse_args()

    ok = True
    if args.validate:
        ok &= validate_small(logn=args.validate_logn, hw=args.validate_hw)
    if args.check_toeplitz:
        ok &= check_toeplitz_full(max_nnz=args.toeplitz_max_nnz)
    if args.no_model:
        sys.exit(0 if ok else 1)

    print(f"Orion packing counts: CIFAR ResNet-18, input 3x{args.hw}x{args.hw}, "
          f"{args.slots} slots, {args.embedding} embedding", file=sys.stderr)
    results = run_model(args.slots, args.hw, args.embedding)
    table, tot, nrots = markdown(results, args.slots)
    print(table)
    if args.per_layer:
        print()
        print("| layer | matrix | blocks | diagonals | baby | giant | out | key switches |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['name']} | {r['matrix'][0]}x{r['matrix'][1]} | "
                  f"{r['blocks'][0]}x{r['blocks'][1]} | {r['diagonals']} | {r['baby']} | "
                  f"{r['giant']} | {r['out_rot']} | {r['key_switches']} |")
    if args.json:
        dump = []
        for r in results:
            d = {k: v for k, v in r.items() if k not in ("layer", "rotations")}
            d["n_rotation_amounts"] = len(r["rotations"])
            dump.append(d)
        with open(args.json, "w") as f:
            json.dump({"slots": args.slots, "hw": args.hw, "embedding": args.embedding,
                       "layers": dump, "total": tot, "distinct_rotations": nrots}, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
