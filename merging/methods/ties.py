"""TIES: trim each task vector, elect a sign per entry, average the agreeing entries.

Paper: Yadav et al., "TIES-Merging: Resolving Interference When Merging Models"
(NeurIPS 2023), https://arxiv.org/abs/2306.01708

With weights w = (1 - lam, lam) for (direct, thinking):
1. trim: keep the top `density` fraction of |tau_X| per tensor (density >= 1: no trimming;
   the default, because the paper's run used density 80, which its code treats as none);
2. elect: sign(w_D * trim(tau_D) + w_T * trim(tau_T)), zero counting as +;
3. disjoint mean: sum(w_X * x_X * agree_X) / sum(w_X * agree_X), where an entry agrees when
   it is non-zero with the elected sign; divided by the summed weights of the agreeing
   parents (mergekit's normalisation; PEFT divides by their count instead); 0 where none
   agree. Result: B + that mean. Where only one parent's entry survives, lam stops
   mattering there (the entry is taken whole).
Trimming is lam-independent (prepare); election and mean depend on lam (at).

Bounded memory: each tensor's two thresholds (the magnitude of |tau_X|'s k-th largest entry,
k = round(density * numel)) come from two streaming passes over its slices (a radix select
on the float32 bit patterns, `merging.steps.threshold_passes`: exact, never a sort), then the
tensor is trimmed and merged slice by slice. Ties: every entry whose magnitude equals the
threshold is kept, so a tensor may keep more than k entries when magnitudes repeat (common
in bf16 task vectors); the result does not depend on element order or slicing. mergekit
keeps exactly k (torch.topk over |tau|, ties broken in topk's order). Same bits as revision 1
(whole-tensor torch.kthvalue).

paper_compat (the paper's `ties_merge_models_TA`): the threshold is at k = int(density *
numel) (not round; ties at it still all kept), and on a tied model its final
`merged[name] += tau` runs for `embed_tokens` and again for `lm_head`, the same tensor, so
the embedding gets B + 2 * mean (params `visits` = 2, merging.apply). Off by default.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import (combine, disjoint_mean, elect_sign, f32, keep_at_least, nonzero_count,
                           task_vector, threshold_passes, top_count)


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # trimmed tau_D, float32
    think: Tensor  # trimmed tau_T, float32
    times: int = 1  # how often the merged task vector is added (2: paper_compat, tied embedding)


def task_vectors(direct, think, base) -> dict[str, Tensor]:
    return {"direct": task_vector(direct, base), "think": task_vector(think, base)}


def density_of(params: dict, numel: int) -> float:
    """The fraction kept: `density`, or under paper_compat int(density * numel) / numel (so
    top_count gives the paper's int() count)."""
    density = params["density"]
    if params.get("paper_compat") and density < 1:
        return math.floor(density * numel) / numel
    return density


def tensor_statistics(params: dict, shape: tuple) -> tuple:
    """The two thresholds' passes, when the density trims anything of this tensor."""
    numel = math.prod(shape)
    density = density_of(params, numel)
    return threshold_passes(task_vectors, density) if top_count(numel, density) < numel else ()


def prepare(direct, think, base, params, gen, stats) -> State:
    """`stats`: this tensor's thresholds (None: nothing trimmed)."""
    tau = task_vectors(direct, think, base)
    return State(base, *(keep_at_least(tau[key], stats[key] if stats else None) for key in ("direct", "think")),
                 params.get("visits", 1))


def merged_vector(state: State, lam: float) -> Tensor:
    """The disjoint mean of the trimmed task vectors at weights (1 - lam, lam), times `times`."""
    w = (1.0 - lam, lam)
    elected = elect_sign(combine(state.direct, w[0], state.think, w[1]))
    mean = disjoint_mean((state.direct, state.think), w, elected)
    return mean if state.times == 1 else mean.mul_(state.times)


def at(state: State, lam: float) -> Tensor:
    return f32(state.base) + merged_vector(state, lam)


def at_into(state: State, lam: float, out: Tensor) -> None:
    """`at` rounded once into `out` (base + mean == mean + base, bit for bit)."""
    torch.add(merged_vector(state, lam).reshape(out.shape), f32(state.base).reshape(out.shape), out=out)


def diagnose(state: State) -> dict[str, float]:
    return {
        "elements": float(state.direct.numel()),
        "kept_direct": nonzero_count(state.direct),
        "kept_think": nonzero_count(state.think),
    }


def summarize(sums: dict[str, float]) -> dict[str, float]:
    n = max(sums["elements"], 1.0)
    return {"nonzero_fraction_direct": sums["kept_direct"] / n,
            "nonzero_fraction_think": sums["kept_think"] / n}


SPEC = register(
    MethodSpec(
        name="ties",
        needs_base=True,
        params={
            "density": ParamSpec(1.0, float, "fraction of each task vector kept by magnitude; >= 1 keeps all",
                                 check=lambda v: None if v > 0 else "must be > 0"),
        },
        paper="https://arxiv.org/abs/2306.01708",
        description="trim, elect sign, disjoint mean (divided by agreeing weights), weights (1-lam, lam)",
        prepare=prepare,
        at=at,
        at_into=at_into,
        elementwise=True,  # given each tensor's thresholds
        tensor_statistics=tensor_statistics,
        diagnose=diagnose,
        summarize=summarize,
        sparse=lambda params: params["density"] < 1.0,  # density >= 1 trims nothing
    )
)
