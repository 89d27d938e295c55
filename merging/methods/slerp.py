"""Spherical linear interpolation between the parents, per tensor.

Paper: Shoemake, "Animating rotation with quaternion curves" (SIGGRAPH 1985),
https://doi.org/10.1145/325165.325242 (as used for model merging by mergekit).

Flatten both tensors, take the cosine of the normalised tensors; if |cos| > eps (or a
tensor is all zeros) fall back to the weighted average, else with w = arccos(cos):
    theta(lam) = sin((1 - lam) w) / sin(w) * D + sin(lam w) / sin(w) * T
applied to the raw (unnormalised) tensors. Reductions accumulate in float64, the blend is
float32. The fraction of tensors that took the fallback is reported (close parents make
many tensors take it).
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import combine, dot, lerp, sq_sum


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    omega: float | None  # None: weighted-average fallback
    cos: float


def prepare(direct, think, base, params, gen, stats) -> State:
    norm_d, norm_t = math.sqrt(sq_sum(direct)), math.sqrt(sq_sum(think))
    if norm_d == 0 or norm_t == 0:
        return State(direct, think, None, math.nan)
    cos = max(-1.0, min(1.0, dot(direct, think) / (norm_d * norm_t)))
    if abs(cos) > params["eps"]:
        return State(direct, think, None, cos)
    return State(direct, think, math.acos(cos), cos)


def at(state: State, lam: float) -> Tensor:
    if state.omega is None:  # the weighted average, exactly as `linear` computes it
        return lerp(state.direct, state.think, lam)
    s = math.sin(state.omega)
    return combine(
        state.direct, math.sin((1.0 - lam) * state.omega) / s,
        state.think, math.sin(lam * state.omega) / s,
    )


def diagnose(state: State) -> dict[str, float]:
    return {"tensors": 1.0, "lerp_fallback": float(state.omega is None)}


def summarize(sums: dict[str, float]) -> dict[str, float]:
    return {"lerp_fallback_fraction": sums["lerp_fallback"] / max(sums["tensors"], 1.0)}


SPEC = register(
    MethodSpec(
        name="slerp",
        needs_base=False,
        params={
            "eps": ParamSpec(
                0.9995, float, "fall back to the weighted average when |cos| > eps",
                check=lambda v: None if 0 <= v <= 1 else "must be in [0, 1]",
            ),
        },
        paper="https://doi.org/10.1145/325165.325242",
        description="spherical interpolation per tensor, weighted-average fallback when |cos| > eps",
        revision=2,  # fallback through torch.lerp since revision 2
        prepare=prepare,
        at=at,
        diagnose=diagnose,
        summarize=summarize,
    )
)
