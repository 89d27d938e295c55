"""Average with override: the plain average (D + T)/2, with the lam share of entries that
differ most taken from the thinking parent.

Paper: "The Thinking Spectrum" (arXiv 2509.22034), its robustness rows
`avg_override_top_Kpct_with_T` (K = 1, 2, 5, 10, 20, 50), lam = K/100 here;
https://arxiv.org/abs/2509.22034

    theta(lam) = where(|T - D| in the top lam share, T, (D + T)/2)

lam = 0 is the average, lam = 1 the thinking parent. What the paper's code
(`merge_avg_override_top_k_base(thinking, instruct, K)`) does: |instruct - thinking| in bf16
over every `state_dict()` entry, concatenated; threshold = torch.kthvalue at max(1, N -
int(N * K / 100)); entries >= it from the thinking model, the rest (thinking + instruct) / 2
in bf16 (the same bits as our float32 midpoint rounded once: halving is exact). Ranking,
counting, ties, scope and paper_compat: merging.methods.top_share.
"""
from __future__ import annotations

from torch import Tensor

from merging.methods import top_share
from merging.registry import register


def at(state: top_share.State, lam: float) -> Tensor:
    return top_share.pick(state, lam, top_share.think_of, top_share.mid_of)


SPEC = register(top_share.spec(
    "override", "https://arxiv.org/abs/2509.22034",
    "(direct + think)/2, with the top-lam share of entries by |think - direct| (one threshold over "
    "the model) from think",
    at, top_share.params()))
