"""DARE: drop and rescale each task vector, then combine them linearly.

Paper: Yu et al., "Language Models are Super Mario: Absorbing Abilities from Homologous
Models as a Free Lunch" (ICML 2024), https://arxiv.org/abs/2311.03099

    theta(lam) = B + (1 - lam) * drop_p(tau_D) + lam * drop_p(tau_T)

drop_p keeps each entry with probability 1 - p and rescales the survivors by 1/(1 - p)
(rescale="inverse", the paper's) or to the original L1 norm (rescale="l1", mergekit's).
The masks come from a generator seeded by (seed, tensor name): the direct mask is drawn
first, then the thinking one, so one seed gives bit-identical output whatever the tensor
order, sharding or device.

Bounded memory, same draws: a tensor of n entries is merged slice by slice from two streams
(`streams`): the direct mask, its first n draws made before its first slice and held one bit
an entry (n / 8 bytes, merging.draws.PackedKeep), and the generator itself, just after them,
for the thinking one. torch's CPU generator gives one float32 draw per entry, in order, so
slice after slice these are exactly the draws of the whole-tensor code, whatever the slice
size: the same bits as revision 1 for rescale="inverse" (tested).
rescale="l1" takes each tensor's two L1 ratios in a first streaming pass over its slices
(`tensor_statistics`, drawing from fresh streams): revision 2, since those float64 sums are
now added slice by slice (CHUNK_ELEMS), which may round the ratio differently in its last bits.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.statistics import StatPass
from merging.draws import PackedKeep
from merging.steps import abs_sum, apply_task_vectors, apply_task_vectors_into, dare_keep, task_vector


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # dropped and rescaled tau_D, float32
    think: Tensor  # dropped and rescaled tau_T, float32


def streams(gen, numel: int, params: dict):
    """(direct stream, thinking stream) of a tensor of `numel` entries: the direct mask drawn
    now (its first numel draws, one bit an entry), then the generator itself."""
    return (gen, gen) if params["p"] == 0 else (PackedKeep(gen, numel, params["p"]), gen)


def l1_collect(direct, think, base, params, numel, start) -> dict[str, float]:
    out = {}
    for key, x, gen in (("direct", direct, start.gen[0]), ("think", think, start.gen[1])):
        tau = task_vector(x, base)
        out[key], out[key + "_kept"] = abs_sum(tau), abs_sum(dare_keep(tau, params["p"], gen))
    return out


def l1_ratios(sums: dict[str, float], params: dict, start) -> dict[str, float]:
    """Each parent's sum|tau| / sum|kept tau| (1 where nothing is kept: all zero anyway)."""
    return {key: sums[key] / sums[key + "_kept"] if sums[key + "_kept"] > 0 else 1.0
            for key in ("direct", "think")}


def tensor_statistics(params: dict, shape: tuple) -> tuple:
    return (StatPass(l1_collect, l1_ratios),) if params["p"] > 0 and params["rescale"] == "l1" else ()


def prepare(direct, think, base, params, gen, stats) -> State:
    """`gen`: the tensor's (direct, think) streams, continued slice after slice; `stats`: the
    L1 ratios (rescale="l1")."""
    p = params["p"]
    taus = (task_vector(direct, base), task_vector(think, base))
    if p == 0:
        return State(base, *taus)
    kept = [dare_keep(tau, p, g) for tau, g in zip(taus, gen)]
    if params["rescale"] == "inverse":  # in place: dare_keep's results are fresh tensors
        return State(base, kept[0].div_(1.0 - p), kept[1].div_(1.0 - p))
    return State(base, kept[0].mul_(stats["direct"]), kept[1].mul_(stats["think"]))


def at(state: State, lam: float) -> Tensor:
    return apply_task_vectors(state.base, state.direct, state.think, lam)


def at_into(state: State, lam: float, out: Tensor) -> None:
    apply_task_vectors_into(state.base, state.direct, state.think, lam, out)


# shared with dare_ties, whose drop is this one
PARAMS = {
    "p": ParamSpec(0.2, float, "drop probability of each task-vector entry",
                   check=lambda v: None if 0 <= v < 1 else "must be in [0, 1)"),
    "rescale": ParamSpec("inverse", str, "survivor rescaling: 1/(1-p) or L1-norm match",
                         choices=("inverse", "l1")),
}

SPEC = register(
    MethodSpec(
        name="dare",
        needs_base=True,
        params=PARAMS,
        paper="https://arxiv.org/abs/2311.03099",
        description="B + (1-lam)*drop_p(tau_D) + lam*drop_p(tau_T), seeded by (seed, tensor name)",
        revision=2,  # l1 ratios summed slice by slice since revision 2 (inverse: same bits)
        prepare=prepare,
        at=at,
        at_into=at_into,
        elementwise=True,  # given the tensor's streams (and L1 ratios)
        streams=streams,
        tensor_statistics=tensor_statistics,
        sparse=lambda params: params["p"] > 0.0,  # p = 0 drops nothing
    )
)
