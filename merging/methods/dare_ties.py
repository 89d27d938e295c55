"""DARE-TIES: DARE's random drop and rescale of each task vector, then TIES' sign election and
disjoint mean (mergekit's `dare_ties`).

Papers: Yu et al., "Language Models are Super Mario" (ICML 2024),
https://arxiv.org/abs/2311.03099 (DARE), composed with Yadav et al., "TIES-Merging" (NeurIPS
2023), https://arxiv.org/abs/2306.01708

With weights w = (1 - lam, lam) for (direct, thinking):
1. drop: drop_p(tau_X) keeps each entry with probability 1 - p and rescales the survivors
   (1/(1 - p), or to the original L1 norm), drawn exactly as `dare` draws them: one generator
   seeded by (seed, tensor name), the direct mask first, so the dropped vectors are DARE's;
2. elect: sign(w_D * drop(tau_D) + w_T * drop(tau_T)), zero counting as +;
3. disjoint mean: sum(w_X * x_X * agree_X) / sum(w_X * agree_X) (agreeing: non-zero with the
   elected sign; 0 where none agree); result B + that mean.
At p = 0 it is `ties` at density 1. Dropping is lam-independent (prepare); steps 2-3 are `at`.

Bounded memory: step 1 is `dare`'s own prepare, streams and per-tensor L1 pass (merging.methods
.dare), so the tensor is merged slice by slice with DARE's draws; revision 2: rescale="l1"
sums its ratios slice by slice (as dare's revision 2), "inverse" gives the same bits.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from merging.methods import dare
from merging.registry import MethodSpec, register
from merging.steps import combine, disjoint_mean, elect_sign, f32


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # dropped and rescaled tau_D, float32
    think: Tensor  # dropped and rescaled tau_T, float32


def prepare(direct, think, base, params, gen, stats) -> State:
    """DARE's drop and rescale: `gen` the tensor's (direct, think) streams, `stats` its L1 ratios."""
    return State(*dare.prepare(direct, think, base, params, gen, stats))


def merged_vector(state: State, lam: float) -> Tensor:
    w = (1.0 - lam, lam)
    elected = elect_sign(combine(state.direct, w[0], state.think, w[1]))
    return disjoint_mean((state.direct, state.think), w, elected)


def at(state: State, lam: float) -> Tensor:
    return f32(state.base) + merged_vector(state, lam)


def at_into(state: State, lam: float, out: Tensor) -> None:
    """`at` rounded once into `out` (base + mean == mean + base, bit for bit)."""
    torch.add(merged_vector(state, lam).reshape(out.shape), f32(state.base).reshape(out.shape), out=out)


SPEC = register(
    MethodSpec(
        name="dare_ties",
        needs_base=True,
        params=dict(dare.PARAMS),
        paper="https://arxiv.org/abs/2311.03099",
        description="DARE drop and rescale, then TIES sign election and disjoint mean, weights (1-lam, lam)",
        revision=2,  # l1 ratios summed slice by slice (dare's revision 2; inverse: same bits)
        prepare=prepare,
        at=at,
        at_into=at_into,
        elementwise=True,  # given the tensor's streams (and L1 ratios)
        streams=dare.streams,
        tensor_statistics=dare.tensor_statistics,
        sparse=lambda params: params["p"] > 0.0,
    )
)
