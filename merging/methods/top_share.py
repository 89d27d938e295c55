"""What the three top-share merges (surgical, override, keep_direct) have in common: a lam
share of the entries, ranked by |think - direct|, is selected, and two candidates are chosen
between entry by entry. Not a method itself (it registers nothing); each method module says
which candidates it picks.

Ranking: |think - direct| computed in the parents' stored dtype (bf16 subtraction for bf16
parents, as the paper's code does), over the WHOLE model with one threshold (scope="model",
the paper's) or per tensor (scope="tensor"). Both are the same exact select in bounded
memory (merging.statistics.TopShare): a histogram of the high 16 bits of |difference|, then
for float16/float32 parents one pass refining the bins where the requested lams fall; over
every tensor's slices (two model-wide streaming passes) or over one tensor's slices before it
is merged (per-tensor passes, for the strengths the driver asked for). A tensor prepared
whole (in memory, or one slice) at scope="tensor" takes torch.kthvalue of its own ranking
instead: the same threshold. Counting (the rule at ties):
k = round(lam * n) entries, the k-th largest (select="largest") or smallest ("smallest")
|difference| is the threshold, and EVERY entry tied with it is selected too, so at least k
are (exactly k when the threshold's value is unique), the same entries whatever the tensor
order or slice size. lam = 0 selects nothing, lam = 1 everything.

paper_compat: the paper's counting (merging.statistics.share_position: num = int(n * lam),
then its kthvalue positions, so select="largest" selects num + 1 entries at least, and one
even at lam = 0), and (scope="model") a tied embedding counted twice in n and in the ranking;
at scope="tensor" n is the tensor's own entry count in both modes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, ParamSpec
from merging.statistics import StatPass, TopShare, abs_diff_bits, share_passes, share_position
from merging.steps import f32, midpoint


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    key: Tensor  # (numel,) int32: float32 bits of |think - direct|
    ranking: TopShare | None  # None: scope="tensor" on the whole tensor (its own kthvalue)
    select: str
    counting: str


def counting(params: dict) -> str:
    return "paper" if params.get("paper_compat") else "round"


def prepare(direct, think, base, params, gen, stats) -> State:
    """`stats`: the model's TopShare (scope="model"), or this tensor's (scope="tensor"; None
    or unused when `direct` is the whole tensor)."""
    key = abs_diff_bits(direct, think)
    ranking = stats
    if params["scope"] == "tensor" and (stats is None or key.numel() >= stats.total):
        ranking = None
    return State(direct, think, key, ranking, params["select"], counting(params))


def tensor_passes(select: Callable[[dict], str]) -> Callable[[dict, tuple], tuple]:
    """scope="tensor": the TopShare passes over one tensor's slices, refined for the strengths
    the driver has asked for so far (`TensorStart.lams`). Both always run (the streaming
    engine reads a tensor once per declared pass); the second refines nothing, and costs one
    read, when no requested threshold needs it (bf16 parents)."""
    def passes(params: dict, shape: tuple) -> tuple:
        if params["scope"] != "tensor":
            return ()
        hist, fine = share_passes(select, counting, lambda p: True)

        def located(sums, p, start):
            ranking = hist.finish(sums, p, start)
            ranking.request(start.lams)
            return ranking

        def refine(d, t, b, p, numel, ranking):
            return fine.collect(d, t, b, p, numel, ranking) if ranking.pending else {}

        def refined(sums, p, ranking):
            return fine.finish(sums, p, ranking) if ranking.pending else ranking

        return StatPass(hist.collect, located), StatPass(refine, refined)

    return passes


def selected(state: State, lam: float) -> Tensor:
    """(numel,) bool: the entries of this tensor (or slice) in the lam share."""
    if state.ranking is not None:
        value = state.ranking.threshold(lam)
    else:
        n = state.key.numel()
        pos = share_position(lam, n, state.select, state.counting)
        value = None if pos is None else int(torch.kthvalue(state.key, pos).values)
    if value is None:
        return torch.zeros(state.key.shape, dtype=torch.bool, device=state.key.device)
    return state.key >= value if state.select == "largest" else state.key <= value


def pick(state: State, lam: float, chosen: Callable[[Tensor, Tensor], Tensor],
         other: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """chosen(direct, think) on the selected entries, other(direct, think) elsewhere (float32)."""
    mask = selected(state, lam).reshape(state.think.shape)
    return torch.where(mask, chosen(state.direct, state.think), other(state.direct, state.think))


def direct_of(direct: Tensor, think: Tensor) -> Tensor:
    return f32(direct)


def think_of(direct: Tensor, think: Tensor) -> Tensor:
    return f32(think)


def mid_of(direct: Tensor, think: Tensor) -> Tensor:
    return midpoint(direct, think)


def params(select_default: str = "largest", with_select: bool = False) -> dict[str, ParamSpec]:
    out = {"scope": ParamSpec("model", str, "one threshold over the whole model (the paper's) or one per tensor",
                              choices=("model", "tensor"))}
    if with_select:
        out["select"] = ParamSpec(select_default, str, "which entries the lam share takes: largest or "
                                  "smallest |think - direct|", choices=("largest", "smallest"))
    return out


def spec(name: str, paper: str, description: str, at: Callable[[Any, float], Tensor],
         param_specs: dict[str, ParamSpec], revision: int = 1) -> MethodSpec:
    """The MethodSpec of a top-share method (no base; elementwise given its ranking)."""
    if "select" not in param_specs:
        def prep(direct, think, base, p, gen, stats):
            return prepare(direct, think, base, {**p, "select": "largest"}, gen, stats)
        select = lambda p: "largest"  # noqa: E731
    else:
        prep = prepare
        select = lambda p: p["select"]  # noqa: E731
    return MethodSpec(
        name=name, needs_base=False, params=param_specs, paper=paper, description=description,
        prepare=prep, at=at, upcast=False,  # the ranking is computed in the stored dtype
        elementwise=True,  # given the model's (or the tensor's) ranking
        statistics=share_passes(select, counting, lambda p: p["scope"] == "model"),
        tensor_statistics=tensor_passes(select),
        revision=revision,
    )
