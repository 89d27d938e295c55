"""Spherical linear interpolation between the parents, per tensor.

Paper: Shoemake, "Animating rotation with quaternion curves" (SIGGRAPH 1985),
https://doi.org/10.1145/325165.325242 (as used for model merging by mergekit).

Flatten both tensors, take the cosine of the normalised tensors; if |cos| > eps (or a
tensor is all zeros) fall back to the weighted average, else with w = arccos(cos):
    theta(lam) = sin((1 - lam) w) / sin(w) * D + sin(lam w) / sin(w) * T
applied to the raw (unnormalised) tensors. Reductions accumulate in float64, the blend is
float32. The fraction of tensors that took the fallback is reported (close parents make
many tensors take it).

Bounded memory: the dot product and the norms are one streaming pass over the tensor's
slices (float64 sums of each slice's float64 sums, `tensor_statistics`), then it is blended
slice by slice from the parents' stored dtype (the fallback by the fused lerp, as `linear`).
Revision 3: the sums are taken slice by slice (CHUNK_ELEMS), which may round cos differently
in its last bits from revision 2's whole-tensor sums.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.statistics import StatPass
from merging.steps import combine, dot, f32, lerp, lerp_into, sq_sum


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    omega: float | None  # None: weighted-average fallback
    cos: float
    share: float  # this slice's share of its tensor (diagnostics count tensors)


def collect(direct, think, base, params, numel, start) -> dict[str, float]:
    direct, think = f32(direct), f32(think)  # upcast once for the three sums (the same bits)
    return {"dd": sq_sum(direct), "tt": sq_sum(think), "dt": dot(direct, think)}


def angle(sums: dict[str, float], params: dict, start) -> tuple[float | None, float, int]:
    """(omega or None for the fallback, cos, numel) of one tensor from its sums."""
    norm_d, norm_t = math.sqrt(sums.get("dd", 0.0)), math.sqrt(sums.get("tt", 0.0))
    if norm_d == 0 or norm_t == 0:
        return None, math.nan, start.numel
    cos = max(-1.0, min(1.0, sums["dt"] / (norm_d * norm_t)))
    return (None if abs(cos) > params["eps"] else math.acos(cos)), cos, start.numel


def prepare(direct, think, base, params, gen, stats) -> State:
    omega, cos, numel = stats
    return State(direct, think, omega, cos, direct.numel() / numel)


def at(state: State, lam: float) -> Tensor:
    if state.omega is None:  # the weighted average, exactly as `linear` computes it
        return lerp(state.direct, state.think, lam)
    s = math.sin(state.omega)
    return combine(
        state.direct, math.sin((1.0 - lam) * state.omega) / s,
        state.think, math.sin(lam * state.omega) / s,
    )


def at_into(state: State, lam: float, out: Tensor) -> None:
    if state.omega is None:
        lerp_into(state.direct, state.think, lam, out)
    else:
        out.copy_(at(state, lam).reshape(out.shape))


def diagnose(state: State) -> dict[str, float]:
    return {"tensors": state.share, "lerp_fallback": state.share * (state.omega is None)}


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
        revision=3,  # fallback through torch.lerp since 2; sums slice by slice since 3
        prepare=prepare,
        at=at,
        at_into=at_into,
        upcast=False,
        elementwise=True,  # given the tensor's angle
        tensor_statistics=lambda params, shape: (StatPass(collect, angle),),
        diagnose=diagnose,
        summarize=summarize,
    )
)
