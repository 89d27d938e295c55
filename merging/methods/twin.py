"""Twin merging without a router, as "The Thinking Spectrum" ran it.

Paper: Lu et al., "Twin-Merging: Dynamic Integration of Modular Expertise in Model Merging"
(NeurIPS 2024), https://arxiv.org/abs/2406.15479

    theta(lam) = m + (2 lam - 1) * C(d/2),   m = (D + T)/2, d = T - D
C compresses the exclusive knowledge d/2: mode "topk" keeps its largest (1 - mask_rate)
fraction of magnitudes per tensor (ties at the threshold all kept); mode "svd" keeps its
best rank-ceil(rank_frac * min(rows, cols)) approximation (the original Twin's
compression; non-2-D tensors as (rows, -1)). Default mask_rate 0.9 keeps 10% of the
entries, matching svd's 10% of the rank. At lam = 0.5 the result is the plain average.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import f32, keep_top_magnitude, low_rank, midpoint, shift, sq_sum


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    delta: Tensor  # C(d/2), float32
    half_sq: float


def prepare(direct, think, base, params, gen, stats) -> State:
    half = (f32(think) - f32(direct)) * 0.5
    if params["mode"] == "topk":
        delta = keep_top_magnitude(half, 1.0 - params["mask_rate"])
    else:
        delta, _ = low_rank(half, params["rank_frac"])
    return State(direct, think, delta, sq_sum(half))


def at(state: State, lam: float) -> Tensor:
    return shift(midpoint(state.direct, state.think), state.delta, 2.0 * lam - 1.0)


def diagnose(state: State) -> dict[str, float]:
    return {"half_sq": state.half_sq, "kept_sq": sq_sum(state.delta)}


def summarize(sums: dict[str, float]) -> dict[str, float]:
    return {"kept_norm_fraction": math.sqrt(sums["kept_sq"] / sums["half_sq"]) if sums["half_sq"] > 0 else 1.0}


SPEC = register(
    MethodSpec(
        name="twin",
        needs_base=False,
        params={
            "mask_rate": ParamSpec(0.9, float, "topk: fraction of d/2 zeroed (smallest magnitudes)",
                                   check=lambda v: None if 0 <= v <= 1 else "must be in [0, 1]"),
            "mode": ParamSpec("topk", str, "compression of d/2", choices=("topk", "svd")),
            "rank_frac": ParamSpec(0.1, float, "svd: fraction of the rank kept",
                                   check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
        },
        paper="https://arxiv.org/abs/2406.15479",
        description="m + (2*lam-1)*C((T-D)/2), C = top-k magnitudes or rank-r SVD",
        prepare=prepare,
        at=at,
        diagnose=diagnose,
        summarize=summarize,
        # not sparse: the midpoint keeps both parents whole; only the exclusive half-difference
        # d/2 is compressed (as the paper compresses an expert), not the task vectors
        sparse=None,
    )
)
