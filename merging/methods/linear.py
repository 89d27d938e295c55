"""Weighted average of the two parents: theta(lam) = (1 - lam) * D + lam * T.

Paper: Wortsman et al., "Model soups" (2022), https://arxiv.org/abs/2203.05482
Computed in float32 by torch.lerp (merging.steps.lerp), straight from the parents' stored
dtype into the output's (`at_into`). Both endpoints are exact: lam = 0 returns D and lam = 1
returns T bit for bit.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, register
from merging.steps import lerp, lerp_into


class State(NamedTuple):
    direct: Tensor
    think: Tensor


def prepare(direct, think, base, params, gen, stats) -> State:
    return State(direct, think)


def at(state: State, lam: float) -> Tensor:
    return lerp(state.direct, state.think, lam)


def at_into(state: State, lam: float, out: Tensor) -> None:
    lerp_into(state.direct, state.think, lam, out)


SPEC = register(
    MethodSpec(
        name="linear",
        needs_base=False,
        params={},
        paper="https://arxiv.org/abs/2203.05482",
        description="weighted average (1-lam)*D + lam*T",
        revision=2,  # torch.lerp since revision 2
        prepare=prepare,
        at=at,
        elementwise=True,
        at_into=at_into,
        upcast=False,
    )
)
