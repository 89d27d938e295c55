"""LoRE-Merging for two parents: one singular-value shrinkage per tensor.

Paper: Liu et al., "LoRE-Merging: Exploring Low-Rank Estimation For Large Language Model
Merging" (2025), https://arxiv.org/abs/2502.10749

LoRE solves min over theta0, delta_X of sum_X 1/2 ||theta0 + delta_X - X||_F^2
+ mu ||delta_X||_* by coordinate descent. For two parents started at the mean it stops
after one step: theta0 = m = (D + T)/2, delta_T = -delta_D = SVT(d/2, mu), d = T - D, so
    theta(lam) = theta0 + (1 - lam) delta_D + lam delta_T = m + (2 lam - 1) SVT(d/2, mu)
(the merged point is the same for every minimiser; tests check it against the iteration).
Non-2-D tensors are shrunk as (rows, -1) matrices. One SVD per tensor; at lam = 0.5 the
result is the plain average. mu = 0.1 (the paper's) may shrink most of d away: the share
of ||d/2|| that survives is reported.

Bounded memory: a tall tensor over GRAM_MIN_ELEMS entries (an embedding) is shrunk through
its Gram matrix (`merging.spectral.gram_pass`: one streaming pass of row slices sums
(d/2)^T (d/2) in float64; its eigendecomposition gives SVT(d/2) = (d/2) P), then merged row
slice by row slice; it holds the Gram matrix and P (cols x cols), never the tensor in float32.
Other tensors keep the exact SVD, whole. Revision 2: tensors on the Gram route round
differently from revision 1's SVD (same value to float32 accuracy).
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.spectral import (gram_pass, left_spectral, row_length, svt, svt_projector, times_rows,
                              uses_gram, uses_left_gram)
from merging.steps import half_difference as half_of, midpoint, shift, shift_midpoint_into, sq_sum


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    delta: Tensor  # SVT(d/2, mu), float32
    half_sq: float  # ||d/2||^2
    rank: int
    share: float  # this slice's share of its tensor (diagnostics count tensors)


def half_difference(direct, think, base) -> Tensor:
    return half_of(direct, think)


def tensor_statistics(params: dict, shape: tuple) -> tuple:
    return (gram_pass(half_difference),) if uses_gram(shape) else ()


def slice_unit(shape: tuple, params: dict) -> int | None:
    return row_length(shape) if uses_gram(shape) else None  # whole rows, or the tensor whole


def prepare(direct, think, base, params, gen, stats) -> State:
    """`stats`: (singular values, right vectors, numel) of the tensor's d/2 on the Gram route,
    else None."""
    half = half_difference(direct, think, base)
    if stats is None and uses_left_gram(tuple(half.shape)):  # large and wide: held whole
        mu = params["mu"]
        delta, s = left_spectral(half, lambda s: (s - mu).clamp_min(0))
        return State(direct, think, delta, sq_sum(half), int((s > mu).sum()), 1.0)
    if stats is None:
        delta, rank = svt(half, params["mu"])
        return State(direct, think, delta, sq_sum(half), rank, 1.0)
    s, v, numel = stats
    p, rank = svt_projector(s, v, params["mu"])
    return State(direct, think, times_rows(half, p), sq_sum(half), rank, half.numel() / numel)


def at(state: State, lam: float) -> Tensor:
    return shift(midpoint(state.direct, state.think), state.delta, 2.0 * lam - 1.0)


def at_into(state: State, lam: float, out: Tensor) -> None:
    shift_midpoint_into(state.direct, state.think, state.delta, 2.0 * lam - 1.0, out)


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
        description="m + (2*lam-1)*SVT((T-D)/2, mu), one SVD per tensor",
        revision=2,  # the Gram route for large tall tensors since revision 2
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
