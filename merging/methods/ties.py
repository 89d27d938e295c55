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

paper_compat (the paper's `ties_merge_models_TA`): it keeps int(density * numel) entries
(not round), and on a tied model its final `merged[name] += tau` runs for `embed_tokens`
and again for `lm_head`, the same tensor, so the embedding gets B + 2 * mean (params
`visits` = 2, merging.apply). Off by default.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.steps import combine, disjoint_mean, elect_sign, f32, keep_top_magnitude, task_vector


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # trimmed tau_D, float32
    think: Tensor  # trimmed tau_T, float32
    times: int = 1  # how often the merged task vector is added (2: paper_compat, tied embedding)


def prepare(direct, think, base, params, gen, stats) -> State:
    density = params["density"]
    if params.get("paper_compat") and density < 1:  # the paper's int() count, as a fraction
        density = math.floor(density * direct.numel()) / direct.numel()
    return State(
        base,
        keep_top_magnitude(task_vector(direct, base), density),
        keep_top_magnitude(task_vector(think, base), density),
        params.get("visits", 1),
    )


def at(state: State, lam: float) -> Tensor:
    w = (1.0 - lam, lam)
    elected = elect_sign(combine(state.direct, w[0], state.think, w[1]))
    mean = disjoint_mean((state.direct, state.think), w, elected)
    return f32(state.base) + (mean if state.times == 1 else mean * state.times)


def diagnose(state: State) -> dict[str, float]:
    return {
        "elements": float(state.direct.numel()),
        "kept_direct": float((state.direct != 0).sum()),
        "kept_think": float((state.think != 0).sum()),
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
        diagnose=diagnose,
        summarize=summarize,
        sparse=lambda params: params["density"] < 1.0,  # density >= 1 trims nothing
    )
)
