"""The fast steps (float 0/1 masks and products, DARE's masks drawn ahead) against the boolean
mask and torch.where code they replace, kept here verbatim: the same bits, zero signs
included, on inputs full of the cases that tell them apart (+-0, ties, zero weights, NaN/Inf)."""
from __future__ import annotations

import pytest
import torch

from merging.apply import MethodRun, StreamsAhead
from merging.methods.emr import unify, unify_where
from merging.steps import dare_keep, disjoint_mean, elect_sign, keep_at_least, nonzero_count, tensor_generator

pytestmark = pytest.mark.fast


def same_bits(a, b) -> bool:
    """Equal bit patterns (torch.equal lets -0.0 pass for +0.0, and NaN never equals NaN)."""
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


def tricky(n, seed, nonfinite=False):
    """bf16-rounded values with many exact zeros of both signs and repeated magnitudes."""
    g = torch.Generator().manual_seed(seed)
    x = (0.01 * torch.randn(n, generator=g)).bfloat16().float()
    x[::5], x[1::7] = 0.0, -0.0
    x[2::11] = x[3::11].neg()[:x[2::11].numel()]
    if nonfinite:
        x[4::13], x[6::17], x[8::19] = float("nan"), float("inf"), float("-inf")
    return x


def old_disjoint_mean(xs, ws, elected):
    """Revision 1's disjoint mean (boolean agreement, torch.where), verbatim."""
    num = den = None
    for x, w in zip(xs, ws):
        agree = (x * elected > 0).to(elected.dtype)
        part_num, part_den = (x * w) * agree, agree * w
        num = part_num if num is None else num.add_(part_num)
        den = part_den if den is None else den.add_(part_den)
    none = den == 0
    return torch.where(none, 0.0, num / den.add_(none.to(den.dtype)))


@pytest.mark.parametrize("nonfinite", [False, True])
@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5, 1.0, -0.5, 1.5, 1e-44])  # 1e-44: products underflow to +-0
def test_disjoint_mean_and_election_are_the_where_code_bit_for_bit(lam, nonfinite):
    d, t = tricky(5000, 1, nonfinite), tricky(5000, 2, nonfinite)
    w = (1.0 - lam, lam)
    ws = d * w[0]
    ws += t * w[1]
    elected = elect_sign(ws)
    assert same_bits(elected, torch.where(ws >= 0, 1.0, -1.0))
    assert same_bits(disjoint_mean((d, t), w, elected), old_disjoint_mean((d.clone(), t.clone()), w, elected))


@pytest.mark.parametrize("nonfinite", [False, True])
def test_unify_is_the_where_code_bit_for_bit(nonfinite):
    tau_d, tau_t = tricky(6000, 3, nonfinite), tricky(6000, 4, nonfinite)
    tau_t[9::23] = -tau_d[9::23]  # zero sums: gamma -1
    for got, ref in zip(unify(tau_d, tau_t), unify_where(tau_d, tau_t)):
        assert same_bits(got, ref)


@pytest.mark.parametrize("threshold", [0.0, 0.004, 0.02, float("nan"), None])
def test_keep_at_least_is_the_boolean_product(threshold):
    x = tricky(3000, 5, nonfinite=True)
    expect = x if threshold is None else x * (x.abs() >= threshold)
    assert same_bits(keep_at_least(x, threshold), expect)


@pytest.mark.parametrize("n", [0, 7, 3000, (1 << 24) + 3])  # the last: past float32's exact sums
def test_nonzero_count_counts(n):
    x = torch.ones(n) if n > 10_000 else tricky(n, 6, nonfinite=True)
    assert nonzero_count(x) == int(torch.count_nonzero(x)) == (n if n > 10_000 else int((x != 0).sum()))


@pytest.mark.parametrize("p", [0.0, 0.2, 0.9])
@pytest.mark.parametrize("nonfinite", [False, True])
def test_dare_keep_is_revision_1s_where(p, nonfinite):
    x = tricky(4000, 7, nonfinite)
    keep = torch.rand(x.shape, generator=tensor_generator(1, "w"), dtype=torch.float32) >= p
    expect = torch.where(keep, x, torch.zeros(()))  # revision 1, verbatim
    got = dare_keep(x, p, tensor_generator(1, "w"))
    if not nonfinite:  # a kept -0.0 comes back +0.0 (harmless: tau = -0.0 only over a base of +0.0)
        expect = torch.where((expect == 0) & keep, 0.0, expect)
    assert same_bits(got, expect)  # NaN/Inf: torch.where itself


def test_streams_ahead_are_the_tensors_own_streams_in_any_order():
    run = MethodRun("dare", {"p": 0.3}, seed=2, has_base=True)
    numels = {"a": 1000, "b": 17, "c": 3000}
    ahead = StreamsAhead(run, list(numels), numels)
    try:
        for name in ("a", "c", "b"):  # "b" skipped ahead of: made on the spot
            direct, think = ahead.get(name)
            ref_direct, ref_think = run.generator(name, numels[name])
            n = numels[name]
            assert torch.equal(direct.take((n,), 0.3), ref_direct.take((n,), 0.3))
            assert torch.equal(torch.rand(5, generator=think), torch.rand(5, generator=ref_think))
    finally:
        ahead.close()
