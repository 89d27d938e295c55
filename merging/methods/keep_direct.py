"""Keep direct, average a share: the direct parent, with a lam share of entries (ranked by
|think - direct|) replaced by the average (D + T)/2.

Paper: "The Thinking Spectrum" (arXiv 2509.22034), its robustness rows
`top_k_avg_Kpct_keep_I` (K = 1, 2, 5, 10, 20, 50), lam = K/100 here;
https://arxiv.org/abs/2509.22034

    theta(lam) = where(|T - D| in the selected lam share, (D + T)/2, D)

select="largest" (default) averages the entries that differ MOST, as the paper's row name and
its function's docstring ("averages the top k% most differing parameters") say, and as the
sibling methods (surgical, override) rank. But the paper's code averages the LEAST
different ones: `merge_top_k_avg_keep_base(instruct, thinking, K)` takes torch.kthvalue at
int(N * K / 100) (the K%-th SMALLEST |thinking - instruct|, bf16, over every `state_dict()`
entry) and averages the entries `<=` it. To reproduce the paper's rows use select=smallest
(with paper_compat for its counting). The default follows the name, because the smallest
differences are mostly near zero and averaging them barely moves the direct model: that is
a different experiment from the one the rows claim to run. lam = 0 is the direct parent,
lam = 1 the average. Ranking, counting, ties, scope, paper_compat: merging.methods.top_share.
"""
from __future__ import annotations

from torch import Tensor

from merging.methods import top_share
from merging.registry import register


def at(state: top_share.State, lam: float) -> Tensor:
    return top_share.pick(state, lam, top_share.mid_of, top_share.direct_of)


SPEC = register(top_share.spec(
    "keep_direct", "https://arxiv.org/abs/2509.22034",
    "direct, with a lam share of entries by |think - direct| (largest or smallest; one threshold over "
    "the model) averaged",
    at, top_share.params(with_select=True)))
