"""dare_ties: DARE's drop and rescale (the same draws as `dare`), then TIES' sign election and
disjoint mean, checked entry by entry against a hand computation."""
from __future__ import annotations

import pytest
import torch

from merging.apply import MethodRun
from merging.registry import get_method
from merging.steps import tensor_generator

pytestmark = pytest.mark.fast


def hand(direct, think, base, p, lam, seed, name):
    """The drop masks from the (seed, name) generator, direct first; then per entry: elect the
    sign of the weighted sum (zero counts as +), average the agreeing non-zero entries by weight."""
    gen = tensor_generator(seed, name)
    kept = [torch.rand(direct.shape, generator=gen) >= p, torch.rand(think.shape, generator=gen) >= p]
    taus = [(x - base) * k / (1 - p) for x, k in zip((direct, think), kept)]
    w = (1 - lam, lam)
    out = []
    for i in range(base.numel()):
        xs = [float(t.reshape(-1)[i]) for t in taus]
        sign = 1.0 if w[0] * xs[0] + w[1] * xs[1] >= 0 else -1.0
        agree = [(wi, x) for wi, x in zip(w, xs) if x != 0 and (x > 0) == (sign > 0)]
        den = sum(wi for wi, _ in agree)
        out.append(float(base.reshape(-1)[i]) + (sum(wi * x for wi, x in agree) / den if den else 0.0))
    return torch.tensor(out).reshape(base.shape)


@pytest.mark.parametrize("p,lam,seed", [(0.2, 0.3, 0), (0.5, 0.8, 7), (0.0, 0.5, 1)])
def test_matches_the_hand_computation(p, lam, seed):
    g = torch.Generator().manual_seed(seed)
    base, direct, think = (torch.randn(6, 5, generator=g) for _ in range(3))
    run = MethodRun("dare_ties", {"p": p}, seed=seed, has_base=True)
    out = torch.empty(6, 5)
    run.into(run.prepare("w", direct, think, base), "w", lam, out)
    assert torch.allclose(out, hand(direct, think, base, p, lam, seed, "w"), rtol=1e-6, atol=1e-6)


def test_drops_as_dare_and_reduces_to_ties_without_dropping():
    g = torch.Generator().manual_seed(3)
    base, direct, think = (torch.randn(40, generator=g) for _ in range(3))
    dt = MethodRun("dare_ties", {"p": 0.4}, seed=5, has_base=True).prepare("x", direct, think, base)
    dare = MethodRun("dare", {"p": 0.4}, seed=5, has_base=True).prepare("x", direct, think, base)
    assert torch.equal(dt.direct, dare.direct) and torch.equal(dt.think, dare.think)
    no_drop = MethodRun("dare_ties", {"p": 0.0}, has_base=True)
    ties = MethodRun("ties", {"density": 1.0}, has_base=True)
    a, b = torch.empty(40), torch.empty(40)
    no_drop.into(no_drop.prepare("x", direct, think, base), "x", 0.6, a)
    ties.into(ties.prepare("x", direct, think, base), "x", 0.6, b)
    assert torch.equal(a, b)
    assert get_method("dare_ties").is_sparse({"p": 0.2}) and not get_method("dare_ties").is_sparse({"p": 0.0})
