"""Task arithmetic: theta(lam) = B + scale * ((1 - lam) * tau_D + lam * tau_T), tau_X = X - B.

Paper: Ilharco et al., "Editing models with task arithmetic" (ICLR 2023),
https://arxiv.org/abs/2212.04089
With scale = 1 this is the weighted average written through the base (equal up to float32
rounding); `scale` is the paper's global scaling coefficient.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import apply_task_vectors, f32, task_vector


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    base: Tensor
    scale: float


def prepare(direct, think, base, params, gen, stats) -> State:
    return State(direct, think, base, params["scale"])


def at(state: State, lam: float) -> Tensor:
    return apply_task_vectors(state.base, task_vector(state.direct, state.base),
                              task_vector(state.think, state.base), lam, state.scale)


def at_into(state: State, lam: float, out: Tensor) -> None:
    """`at` rounded into `out` with the same operations in the same order, in place (no
    temporaries beyond the two task vectors): base + tau equals tau + base exactly, and the
    final sum computed in float32 is rounded once into out's dtype, as `out.copy_(at(...))`."""
    tau = task_vector(state.direct, state.base).mul_(1.0 - lam)
    tau.add_(task_vector(state.think, state.base).mul_(lam))
    if state.scale != 1.0:
        tau.mul_(state.scale)
    torch.add(tau.reshape(out.shape), f32(state.base).reshape(out.shape), out=out)


SPEC = register(
    MethodSpec(
        name="task_arithmetic",
        needs_base=True,
        params={"scale": ParamSpec(1.0, float, "global scaling of the combined task vector")},
        paper="https://arxiv.org/abs/2212.04089",
        description="B + scale*((1-lam)*tau_D + lam*tau_T)",
        prepare=prepare,
        at=at,
        at_into=at_into,
        elementwise=True,
    )
)
