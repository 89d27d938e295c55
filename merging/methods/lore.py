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
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import f32, midpoint, shift, sq_sum, svt


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    delta: Tensor  # SVT(d/2, mu), float32
    half_sq: float  # ||d/2||^2
    rank: int


def prepare(direct, think, base, params, gen, stats) -> State:
    half = (f32(think) - f32(direct)) * 0.5
    delta, rank = svt(half, params["mu"])
    return State(direct, think, delta, sq_sum(half), rank)


def at(state: State, lam: float) -> Tensor:
    return shift(midpoint(state.direct, state.think), state.delta, 2.0 * lam - 1.0)


def diagnose(state: State) -> dict[str, float]:
    return {"half_sq": state.half_sq, "kept_sq": sq_sum(state.delta), "tensors": 1.0,
            "zeroed_tensors": float(state.rank == 0)}


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
        prepare=prepare,
        at=at,
        diagnose=diagnose,
        summarize=summarize,
    )
)
