"""Surgical merge: the direct parent, with the lam share of entries that differ most from the
thinking parent taken from the thinking parent.

Paper: "The Thinking Spectrum" (arXiv 2509.22034), its robustness rows
`surgical_merge_top_Kpct` (K = 1, 2, 5, 10, 20, 50), which are lam = K/100 here;
https://arxiv.org/abs/2509.22034

    theta(lam) = where(|T - D| in the top lam share, T, D)

lam = 0 is the direct parent, lam = 1 the thinking one. What the paper's code
(`merge_top_k_diff_models(instruct, thinking, K)`) does: |thinking - instruct| in bf16 for
every `state_dict()` entry, concatenated; threshold = torch.kthvalue at max(1, N - int(N *
K / 100)); entries >= it taken from the thinking model. Here the same ranking and threshold
without the concatenation (merging.methods.top_share: the counting rule, ties, scope and
paper_compat).
"""
from __future__ import annotations

from torch import Tensor

from merging.methods import top_share
from merging.registry import register


def at(state: top_share.State, lam: float) -> Tensor:
    return top_share.pick(state, lam, top_share.think_of, top_share.direct_of)


SPEC = register(top_share.spec(
    "surgical", "https://arxiv.org/abs/2509.22034",
    "direct, with the top-lam share of entries by |think - direct| (one threshold over the model) from think",
    at, top_share.params()))
