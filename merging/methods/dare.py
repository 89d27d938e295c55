"""DARE: drop and rescale each task vector, then combine them linearly.

Paper: Yu et al., "Language Models are Super Mario: Absorbing Abilities from Homologous
Models as a Free Lunch" (ICML 2024), https://arxiv.org/abs/2311.03099

    theta(lam) = B + (1 - lam) * drop_p(tau_D) + lam * drop_p(tau_T)

drop_p keeps each entry with probability 1 - p and rescales the survivors by 1/(1 - p)
(rescale="inverse", the paper's) or to the original L1 norm (rescale="l1", mergekit's).
The masks come from a generator seeded by (seed, tensor name): the direct mask is drawn
first, then the thinking one, so one seed gives bit-identical output whatever the tensor
order, sharding or device.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import apply_task_vectors, dare_drop, task_vector


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # dropped and rescaled tau_D, float32
    think: Tensor  # dropped and rescaled tau_T, float32


def prepare(direct, think, base, params, gen, stats) -> State:
    p, rescale = params["p"], params["rescale"]
    return State(
        base,
        dare_drop(task_vector(direct, base), p, gen, rescale),
        dare_drop(task_vector(think, base), p, gen, rescale),
    )


def at(state: State, lam: float) -> Tensor:
    return apply_task_vectors(state.base, state.direct, state.think, lam)


SPEC = register(
    MethodSpec(
        name="dare",
        needs_base=True,
        params={
            "p": ParamSpec(0.2, float, "drop probability of each task-vector entry",
                           check=lambda v: None if 0 <= v < 1 else "must be in [0, 1)"),
            "rescale": ParamSpec("inverse", str, "survivor rescaling: 1/(1-p) or L1-norm match",
                                 choices=("inverse", "l1")),
        },
        paper="https://arxiv.org/abs/2311.03099",
        description="B + (1-lam)*drop_p(tau_D) + lam*drop_p(tau_T), seeded by (seed, tensor name)",
        prepare=prepare,
        at=at,
        sparse=lambda params: params["p"] > 0.0,  # p = 0 drops nothing
    )
)
