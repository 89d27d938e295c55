"""Task arithmetic: theta(lam) = B + scale * ((1 - lam) * tau_D + lam * tau_T), tau_X = X - B.

Paper: Ilharco et al., "Editing models with task arithmetic" (ICLR 2023),
https://arxiv.org/abs/2212.04089
With scale = 1 this is the weighted average written through the base (equal up to float32
rounding); `scale` is the paper's global scaling coefficient.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import apply_task_vectors, apply_task_vectors_into, task_vector


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
    apply_task_vectors_into(state.base, task_vector(state.direct, state.base),
                            task_vector(state.think, state.base), lam, out, state.scale)


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
