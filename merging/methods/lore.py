"""LoRE-Merging for two parents: one singular-value shrinkage per tensor.

Paper: Liu et al., "LoRE-Merging: Exploring Low-Rank Estimation For Large Language Model
Merging" (2025), https://arxiv.org/abs/2502.10749

LoRE solves min over theta0, delta_X of sum_X 1/2 ||theta0 + delta_X - X||_F^2
+ mu ||delta_X||_* by coordinate descent. For two parents started at the mean it stops
after one step: theta0 = m = (D + T)/2, delta_T = -delta_D = SVT(d/2, mu), d = T - D, so
    theta(lam) = theta0 + (1 - lam) delta_D + lam delta_T = m + (2 lam - 1) SVT(d/2, mu)
(the merged point is the same for every minimiser; tests check it against the iteration).
Non-2-D tensors are shrunk as (rows, -1) matrices. At lam = 0.5 the result is the plain
average. mu = 0.1 (the paper's) may shrink most of d away: the share of ||d/2|| that survives
is reported.

Three routes, by the matrix M = d/2 (rows x cols):
- small (at most GRAM_MIN_ELEMS entries): the exact SVD, whole;
- tall (rows >= cols, e.g. an embedding or a gate_proj): one streaming pass of row slices
  sums M^T M (cols x cols, float64, in place); its eigendecomposition M^T M = V S^2 V^T gives
  SVT(M, mu) = M P, P = V diag(max(1 - mu/s, 0)) V^T, formed ONCE per tensor, then applied
  to each row slice as it is merged: memory holds P and the Gram matrix, never the tensor;
- wide (rows < cols, e.g. a down_proj): held whole (a row slice alone cannot be mapped),
  SVT(M, mu) = Q M, Q = U diag(max(1 - mu/s, 0)) U^T from M M^T (rows x rows), both summed
  and applied over column blocks of M computed from the parents: the parents, SVT(M) and Q.
Why the Gram routes for all but small tensors: exact to float32 accuracy (float64 Gram
matrices; singular values below mu drop out of P, so squaring the condition number does not
matter) and cheaper than an SVD of the tensor (one Gram product, one symmetric eigensolver of
the small side, one product: 1.6x less CPU on the 0.6B-shaped bench). The merge itself runs in
flat blocks (bit for bit the whole-tensor arithmetic, without its float32 temporaries).
Revision 3: the Gram routes from 2**18 entries (revision 2: 2**24) round differently.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.spectral import as_matrix, row_length, svt
from merging.statistics import StatPass
from merging.steps import half_difference as half_of, midpoint, shift, shift_midpoint_into, sq_sum

GRAM_MIN_ELEMS = 1 << 18  # 512 x 512; from about here the Gram routes beat torch's SVD on a CPU
BLOCK_ELEMS = 1 << 20  # float32 block size of the wide route's products and of the merge


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    delta: Tensor  # SVT(d/2, mu) (this slice of it), float32
    half_sq: float  # ||d/2||^2
    rank: int
    share: float  # this slice's share of its tensor (diagnostics count tensors)


def half_difference(direct, think, base) -> Tensor:
    return half_of(direct, think)


def route(shape: tuple[int, ...]) -> str:
    """"svd" (small), "rows" (large and tall: streamed) or "cols" (large and wide: whole)."""
    numel = math.prod(shape)
    if numel <= GRAM_MIN_ELEMS:
        return "svd"
    cols = row_length(shape)
    return "rows" if numel // cols >= cols else "cols"


def shrink_gain(evals: Tensor, mu: float) -> tuple[Tensor, int]:
    """max(1 - mu/s, 0) for s = sqrt(eigenvalues of a Gram matrix), and how many are kept."""
    s = evals.clamp_min(0).sqrt()
    g = torch.where(s > mu, 1.0 - mu / torch.where(s > 0, s, 1.0), 0.0)
    return g, int((s > mu).sum())


def projector(gram: Tensor, mu: float) -> tuple[Tensor, int]:
    """(P, rank), P = V g V^T in float32 from a float64 Gram matrix V S^2 V^T."""
    evals, vecs = torch.linalg.eigh(gram)
    del gram
    g, rank = shrink_gain(evals, mu)
    return ((vecs * g) @ vecs.T).float(), rank


def row_gram_pass(mu: float) -> StatPass:
    """One pass over the row slices of a tall tensor: (P, rank, numel). The Gram matrix is
    summed in place in this pass's own buffer (a fresh cols x cols sum per slice would
    allocate, and fault in, 52 MB a slice at cols = 2560); a pass is made per tensor."""
    acc: list[Tensor] = []

    def collect(d, t, b, params, numel, start):
        m = half_of(d, t).reshape(-1, row_length(start.shape)).double()  # (slice rows, cols)
        if acc:
            acc[0].addmm_(m.T, m)
        else:
            acc.append(m.T @ m)
        return {}

    def finish(sums, params, start):
        p, rank = projector(acc.pop(), mu)
        return p, rank, start.numel

    return StatPass(collect, finish)


def col_blocks(cols: int, rows: int) -> range:
    return range(0, cols, max(1, BLOCK_ELEMS // rows))


def left_shrink(direct: Tensor, think: Tensor, mu: float) -> tuple[Tensor, float, int]:
    """(SVT(d/2, mu) in float32 and d's shape, ||d/2||^2, rank) of a wide tensor, through its
    left Gram matrix over column blocks of d/2 computed from the parents (no float32 copy of
    the whole half difference)."""
    d, t = as_matrix(direct), as_matrix(think)  # (rows, cols), rows < cols, stored dtype
    rows, cols = d.shape
    step = col_blocks(cols, rows).step
    gram = torch.zeros(rows, rows, dtype=torch.float64, device=d.device)
    for a in col_blocks(cols, rows):
        block = half_of(d[:, a:a + step], t[:, a:a + step]).double()  # (rows, step)
        gram.addmm_(block, block.T)
    half_sq = float(gram.diagonal().sum())
    q, rank = projector(gram, mu)  # (rows, rows)
    delta = torch.empty(rows, cols, dtype=torch.float32, device=d.device)
    for a in col_blocks(cols, rows):
        delta[:, a:a + step] = q @ half_of(d[:, a:a + step], t[:, a:a + step])
    return delta.reshape(direct.shape), half_sq, rank


def tensor_statistics(params: dict, shape: tuple) -> tuple:
    return (row_gram_pass(params["mu"]),) if route(shape) == "rows" else ()


def slice_unit(shape: tuple, params: dict) -> int | None:
    return row_length(shape) if route(shape) == "rows" else None  # whole rows, or the tensor whole


def prepare(direct, think, base, params, gen, stats) -> State:
    """`stats`: (P, rank, numel) of the tensor on the rows route, else None."""
    mu = params["mu"]
    if stats is not None:  # a row slice (or the whole tensor, in memory) of a tall tensor
        p, rank, numel = stats
        half = half_difference(direct, think, base)
        delta = (half.reshape(-1, p.shape[0]) @ p).reshape(half.shape)
        return State(direct, think, delta, sq_sum(half), rank, half.numel() / numel)
    if route(tuple(direct.shape)) == "cols":
        delta, half_sq, rank = left_shrink(direct, think, mu)
        return State(direct, think, delta, half_sq, rank, 1.0)
    half = half_difference(direct, think, base)
    delta, rank = svt(half, mu)
    return State(direct, think, delta, sq_sum(half), rank, 1.0)


def at(state: State, lam: float) -> Tensor:
    return shift(midpoint(state.direct, state.think), state.delta, 2.0 * lam - 1.0)


def at_into(state: State, lam: float, out: Tensor) -> None:
    """In flat blocks when out is contiguous: the same elementwise arithmetic, bit for bit,
    with block-sized float32 temporaries instead of two of the tensor's size."""
    c = 2.0 * lam - 1.0
    if not out.is_contiguous() or out.numel() <= BLOCK_ELEMS:
        shift_midpoint_into(state.direct, state.think, state.delta, c, out)
        return
    flat = [x.reshape(-1) for x in (state.direct, state.think, state.delta, out)]
    for a in range(0, out.numel(), BLOCK_ELEMS):
        d, t, delta, o = (x[a:a + BLOCK_ELEMS] for x in flat)
        shift_midpoint_into(d, t, delta, c, o)


def diagnose(state: State) -> dict[str, float]:
    return {"half_sq": state.half_sq, "kept_sq": sq_sum(state.delta), "tensors": state.share,
            "zeroed_tensors": state.share * (state.rank == 0)}


def summarize(sums: dict[str, float]) -> dict[str, float]:
    return {
        "kept_norm_fraction": math.sqrt(sums["kept_sq"] / sums["half_sq"]) if sums["half_sq"] > 0 else 1.0,
        "fully_shrunk_tensor_fraction": sums["zeroed_tensors"] / max(sums["tensors"], 1.0),
    }


SPEC = register(
    MethodSpec(
        name="lore",
        needs_base=False,
        params={"mu": ParamSpec(0.1, float, "singular-value shrinkage of d/2 (nuclear-norm weight)",
                                check=lambda v: None if v >= 0 else "must be >= 0")},
        paper="https://arxiv.org/abs/2502.10749",
        description="m + (2*lam-1)*SVT((T-D)/2, mu), one SVD (or Gram eigensolve) per tensor",
        revision=3,  # the Gram routes for tensors over 2**18 entries since revision 3
        prepare=prepare,
        at=at,
        at_into=at_into,
        upcast=False,  # the parents stay in their dtype; computed in float32
        tensor_statistics=tensor_statistics,
        slice_unit=slice_unit,
        diagnose=diagnose,
        summarize=summarize,
    )
)
