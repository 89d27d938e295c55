"""Each operator against a hand computation or a closed form, on seeded small tensors."""
from __future__ import annotations

import hashlib
import math

import pytest
import torch

from merging.apply import MethodRun
from merging.methods.emr import unify
from merging.registry import get_method
from merging.spectral import svt
from merging.steps import keep_top_magnitude, midpoint, tensor_generator

pytestmark = pytest.mark.fast


def run(method, direct, think, base=None, lam=0.5, seed=0, name="w", **params):
    """prepare + at for one tensor, model statistics computed from this tensor alone (its own
    per-tensor statistics and random streams through the driver, `MethodRun.prepare`)."""
    spec = get_method(method)
    driver = MethodRun(method, params, seed=seed, has_base=base is not None)
    p = driver.params
    driver.stats = spec.finish(spec.collect(direct, think, base, p, direct.numel()), p) if spec.collect else None
    return spec.at(driver.prepare(name, direct, think, base), lam)


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


@pytest.fixture
def trio():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(6, 5, generator=g)
    return base + 0.1 * torch.randn(6, 5, generator=g), base + 0.1 * torch.randn(6, 5, generator=g), base


# -- endpoints: where the definition gives a parent ----------------------------------------

EXACT = [("linear", {}), ("slerp", {})]
CLOSE = [("task_arithmetic", {}), ("dare", {"p": 0.0}), ("ties", {"density": 1.0}), ("lore", {"mu": 0.0}),
         ("twin", {"mask_rate": 0.0}), ("twin", {"mode": "svd", "rank_frac": 1.0})]


@pytest.mark.parametrize("method,params", EXACT + CLOSE)
@pytest.mark.parametrize("lam,parent", [(0.0, 0), (1.0, 1)])
def test_endpoints_give_the_parents(trio, method, params, lam, parent):
    direct, think, base = trio
    out = run(method, direct, think, base if get_method(method).needs_base else None, lam=lam, **params)
    if (method, params) in EXACT:
        assert torch.equal(out, trio[parent])
    else:
        torch.testing.assert_close(out, trio[parent], rtol=0, atol=1e-6)


@pytest.mark.parametrize("method,params", [("lore", {}), ("lore", {"mu": 1e-3}), ("twin", {}),
                                           ("twin", {"mode": "svd"}), ("twin", {"mask_rate": 0.5})])
def test_lore_and_twin_equal_the_average_at_half(trio, method, params):
    direct, think, _ = trio
    out = run(method, direct, think, **params)
    assert torch.equal(out, midpoint(direct, think))  # (D + T) / 2, exactly
    # the same value as the weighted average, which torch.lerp rounds its own way
    torch.testing.assert_close(out, run("linear", direct, think), rtol=0, atol=1e-6)


def test_linear_hand():
    assert torch.equal(run("linear", t(1, 2), t(3, -2), lam=0.25), t(1.5, 1.0))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("lam", [0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0])
def test_linear_at_into_rounds_once_like_at(dtype, lam):
    """The fused path (parents' dtype -> output dtype in one pass) equals float32 then cast."""
    g = torch.Generator().manual_seed(3)
    d, th = (torch.randn(70_001, generator=g).to(dtype) for _ in range(2))
    spec = get_method("linear")
    state = spec.prepare(d, th, None, {}, None, None)
    out = torch.empty_like(d)
    spec.into(state, lam, out)
    assert torch.equal(out, spec.at(state, lam).to(dtype))
    torch.testing.assert_close(spec.at(state, lam), d.float() * (1 - lam) + th.float() * lam, rtol=0, atol=1e-6)
    if lam in (0.0, 1.0):
        assert torch.equal(out, th if lam else d)
    other = torch.empty(70_001, dtype=torch.float32 if dtype != torch.float32 else torch.bfloat16)
    spec.into(state, lam, other)  # another output dtype: computed in float32, then cast
    assert torch.equal(other, spec.at(state, lam).to(other.dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_lerp_is_slice_invariant(dtype):
    """torch.lerp is a fused kernel: if its vector body and scalar tail rounded differently,
    a merge computed in slices (the engine) would differ from one computed whole (in place)."""
    g = torch.Generator().manual_seed(5)
    d, th = (torch.randn(10_007, generator=g).to(dtype) for _ in range(2))
    for lam in (0.1, 0.3, 0.7, 0.123456789):
        whole = torch.lerp(d, th, lam)
        for start in range(0, 40):
            for stop in (start + 1, start + 7, start + 33, 10_007):
                assert torch.equal(torch.lerp(d[start:stop], th[start:stop], lam), whole[start:stop]), (lam, start, stop)


# -- SLERP ---------------------------------------------------------------------------------

def test_slerp_rotates_the_angle_linearly():
    d, th = t(1, 0), t(math.cos(math.pi / 3), math.sin(math.pi / 3))  # 60 degrees apart
    torch.testing.assert_close(run("slerp", d, th, lam=0.5), t(math.cos(math.pi / 6), math.sin(math.pi / 6)))


def test_slerp_on_raw_tensors_hand():
    # w = pi/2: sin((1 - 1/3) w) * [2, 0] + sin(w / 3) * [0, 3] = [sqrt(3), 1.5]
    torch.testing.assert_close(run("slerp", t(2, 0), t(0, 3), lam=1 / 3), t(math.sqrt(3), 1.5))


@pytest.mark.parametrize("direct,think,eps,fallback", [
    (t(1, 0), t(1, 1e-3), 0.9995, True),     # |cos| = 0.9999995 > eps
    (t(1, 0), t(-1, 0), 0.9995, True),       # anti-parallel: |cos| = 1
    (t(0, 0), t(1, 2), 0.9995, True),        # a zero tensor has no direction
    (t(1, 0), t(1, 0.05), 0.9995, False),    # cos = 0.99875: the spherical branch
    (t(1, 0), t(1, 0.05), 0.99, True),       # ... unless eps says otherwise
])
def test_slerp_branches(direct, think, eps, fallback):
    spec = get_method("slerp")
    state = MethodRun("slerp", {"eps": eps}, has_base=False).prepare("w", direct, think, None)
    assert spec.diagnose(state)["lerp_fallback"] == float(fallback)
    lerp = run("linear", direct, think, lam=0.3)
    if fallback:
        assert torch.equal(spec.at(state, 0.3), lerp)
    else:
        w = math.acos(1 / math.sqrt(1 + 0.05**2))
        expect = math.sin(0.7 * w) / math.sin(w) * direct + math.sin(0.3 * w) / math.sin(w) * think
        torch.testing.assert_close(spec.at(state, 0.3), expect)
        assert not torch.allclose(spec.at(state, 0.3), lerp, rtol=0, atol=1e-7)


# -- task arithmetic -----------------------------------------------------------------------

def test_task_arithmetic_hand():
    # tau_D = [1, -1], tau_T = [-1, 2]; 0.5 tau_D + 0.5 tau_T = [0, 0.5]; B + 2 * that
    out = run("task_arithmetic", t(2, 0), t(0, 3), t(1, 1), lam=0.5, scale=2.0)
    assert torch.equal(out, t(1, 2))


# -- DARE ----------------------------------------------------------------------------------

def test_dare_is_unbiased_over_seeds():
    g = torch.Generator().manual_seed(3)
    base, tau = torch.randn(64, generator=g), torch.randn(64, generator=g)
    p, n = 0.3, 3000
    mean = sum(run("dare", base, base + tau, base, lam=1.0, seed=s, p=p) - base for s in range(n)) / n
    sigma = tau.abs() * math.sqrt(p / (1 - p) / n)  # std of the mean of n drops
    assert ((mean - tau).abs() / sigma).max() < 5


@pytest.mark.parametrize("rescale", ["inverse", "l1"])
def test_dare_survivors_and_rescale(trio, rescale):
    direct, think, base = trio
    p = 0.5
    dropped = run("dare", direct, think, base, lam=0.0, p=p, rescale=rescale) - base
    tau = direct - base
    kept = dropped != 0
    assert 0 < kept.sum() < tau.numel()
    if rescale == "inverse":
        torch.testing.assert_close(dropped[kept], tau[kept] / (1 - p))
    else:
        torch.testing.assert_close(dropped.abs().sum(), tau.abs().sum())


def test_dare_same_seed_same_bits_other_seed_or_name_differs(trio):
    direct, think, base = trio
    a = run("dare", direct, think, base, seed=5, name="layer.0")
    assert torch.equal(a, run("dare", direct, think, base, seed=5, name="layer.0"))
    assert not torch.equal(a, run("dare", direct, think, base, seed=6, name="layer.0"))
    assert not torch.equal(a, run("dare", direct, think, base, seed=5, name="layer.1"))


def test_tensor_generator_is_a_stable_hash_of_seed_and_name():
    digest = hashlib.blake2b(b"3\x00model.x", digest_size=8).digest()
    expect = torch.Generator().manual_seed(int.from_bytes(digest, "little") & ((1 << 63) - 1))
    assert torch.equal(torch.rand(4, generator=tensor_generator(3, "model.x")), torch.rand(4, generator=expect))


# -- TIES (dyadic numbers: every step is exact in float32) ----------------------------------

TAU_D, TAU_T, BASE = t(0.5, -0.25, 0.375, -0.5), t(-0.125, 0.75, 0.25, -1.0), t(1, 1, 1, 1)


@pytest.mark.parametrize("lam,density,delta", [
    # w = (0.75, 0.25): sum = [0.34375, 0, 0.34375, -0.625] -> signs [+, + (zero), +, -];
    # D agrees at 0, 2, 3 and T at 1, 2, 3; divided by the agreeing weights.
    (0.25, 1.0, t(0.375 / 0.75, 0.1875 / 0.25, 0.34375, -0.625)),
    # trim to 2 of 4: D -> [0.5, 0, 0, -0.5], T -> [0, 0.75, 0, -1]; sum [0.25, 0.375, 0, -0.75]
    (0.5, 0.5, t(0.5, 0.75, 0.0, -0.75)),
    # the paper's "density 80" means no trimming
    (0.25, 80.0, t(0.5, 0.75, 0.34375, -0.625)),
])
def test_ties_hand_worked(lam, density, delta):
    out = run("ties", BASE + TAU_D, BASE + TAU_T, BASE, lam=lam, density=density)
    assert torch.equal(out, BASE + delta)


def test_ties_zero_vote_counts_as_plus():
    out = run("ties", t(0.5), t(-0.5), t(0.0), lam=0.5)  # weighted sum exactly 0 -> +
    assert torch.equal(out, t(0.5))


# -- EMR -----------------------------------------------------------------------------------

def test_emr_rescalers_and_result_by_hand():
    spec = get_method("emr")
    # tensor A: tau_D = [1, -2], tau_T = [3, 1] -> gamma [+, -], M_D [1, 1], M_T [1, 0],
    #   tau_uni [3, -2]; means: |tau_D| 1.5, |tau_T| 2, |uni M_D| 2.5, |uni M_T| 1.5
    # tensor B: tau_D = [0, 0, 0, 2], tau_T = [-1, 1, 0, 2] -> gamma [-, +, - (zero), +],
    #   M_D [0, 0, 0, 1], M_T [1, 1, 0, 1], tau_uni [-1, 1, 0, 2]; means 0.5, 1, 0.5, 1
    # r_D = (1.5 + 0.5) / (2.5 + 0.5) = 2/3, r_T = (2 + 1) / (1.5 + 1) = 1.2
    a = (t(1, -2), t(3, 1), t(0, 0))
    b = (t(0, 0, 0, 2), t(-1, 1, 0, 2), t(0, 0, 0, 0))
    sums: dict[str, float] = {}
    for d, th, base in (a, b):
        for key, value in spec.collect(d, th, base, {}, d.numel()).items():
            sums[key] = sums.get(key, 0.0) + value
    stats = spec.finish(sums, {})
    assert stats == pytest.approx({"r_direct": 2 / 3, "r_think": 1.2})
    out_a = spec.at(spec.prepare(*a, {}, None, stats), 0.25)
    out_b = spec.at(spec.prepare(*b, {}, None, stats), 0.25)
    # 0.75 * 2/3 * uni M_D + 0.25 * 1.2 * uni M_T
    torch.testing.assert_close(out_a, t(0.5 * 3 + 0.3 * 3, 0.5 * -2))
    torch.testing.assert_close(out_b, t(-0.3, 0.3, 0, 0.5 * 2 + 0.3 * 2))


def test_emr_zero_sum_elects_minus():
    uni_d, uni_t, uni = unify(t(1.0), t(-1.0))  # gamma = -1: only the thinking entry survives
    assert torch.equal(uni, t(-1.0)) and torch.equal(uni_d, t(0.0)) and torch.equal(uni_t, t(-1.0))


# -- LoRE ----------------------------------------------------------------------------------

def _lore_coordinate_descent(parents, mu, iters=10_000):
    """LoRE's general definition: min over theta0, delta_i of
    sum_i 1/2 ||theta0 + delta_i - theta_i||^2 + mu ||delta_i||_*, by block coordinate
    descent in float64, started away from the mean (theta0 = first parent)."""
    def prox(x):
        u, s, vh = torch.linalg.svd(x.reshape(x.shape[0], -1), full_matrices=False)
        return ((u * (s - mu).clamp_min(0)) @ vh).reshape(x.shape)

    theta0 = parents[0].clone()
    for _ in range(iters):
        deltas = [prox(p - theta0) for p in parents]
        new = sum(p - d for p, d in zip(parents, deltas)) / len(parents)
        done = (new - theta0).abs().max() < 1e-13
        theta0 = new
        if done:
            break
    return theta0, deltas


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5,), (3, 2, 4)])
@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_lore_closed_form_matches_coordinate_descent(shape, lam):
    g = torch.Generator().manual_seed(11)
    direct = torch.randn(shape, generator=g, dtype=torch.float64)
    think = direct + 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)
    s = torch.linalg.svdvals(((think - direct) / 2).reshape(shape[0], -1))
    mu = float(s[: max(1, len(s) // 2)].mean()) * 0.8  # shrinks some singular values to zero
    theta0, (delta_d, delta_t) = _lore_coordinate_descent([direct, think], mu)
    expect = theta0 + (1 - lam) * delta_d + lam * delta_t
    out = run("lore", direct.float(), think.float(), lam=lam, mu=mu)
    torch.testing.assert_close(out.double(), expect, rtol=0, atol=2e-6)


def test_lore_hand_scalar_matrix():
    # d/2 = 0.5 has one singular value; shrunk by 0.1 -> 0.4; m = 0.5
    assert run("lore", torch.zeros(1, 1), torch.ones(1, 1), lam=1.0, mu=0.1).item() == pytest.approx(0.9)
    assert run("lore", torch.zeros(1, 1), torch.ones(1, 1), lam=0.0, mu=0.1).item() == pytest.approx(0.1)


def test_svt_keeps_the_singular_vectors():
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    shrunk, rank = svt(x, float(s[1]))
    assert rank == 1
    torch.testing.assert_close(shrunk, (s[0] - s[1]) * torch.outer(u[:, 0], vh[0]))


# -- Twin ----------------------------------------------------------------------------------

def test_twin_topk_hand():
    half = t(0.125, -0.5, 0.25, 0.0625)  # direct = 0, think = 2 * half
    direct, think = torch.zeros(4), 2 * half
    assert torch.equal(run("twin", direct, think, lam=1.0, mask_rate=0.5), t(0.125, -1.0, 0.5, 0.0625))
    assert torch.equal(run("twin", direct, think, lam=0.0, mask_rate=0.5), t(0.125, 0.0, 0.0, 0.0625))


def test_twin_svd_is_the_best_rank_r_approximation():
    g = torch.Generator().manual_seed(4)
    direct, think = torch.randn(8, 6, generator=g), torch.randn(8, 6, generator=g)
    half = (think - direct) / 2
    out = run("twin", direct, think, lam=1.0, mode="svd", rank_frac=0.34)  # ceil(0.34 * 6) = 3
    kept = out - (direct + think) / 2
    s = torch.linalg.svdvals(half)
    assert torch.linalg.matrix_rank(kept) == 3
    # Eckart-Young: the error is the discarded singular values
    torch.testing.assert_close(torch.linalg.norm(half - kept), s[3:].norm(), rtol=1e-5, atol=1e-6)


def test_keep_top_magnitude_keeps_ties_and_extremes():
    x = t(1, -2, 2, 0.5)
    assert torch.equal(keep_top_magnitude(x, 0.25), t(0, -2, 2, 0))  # tie at the threshold: both kept
    assert torch.equal(keep_top_magnitude(x, 1.0), x)
    assert torch.equal(keep_top_magnitude(x, 0.0), torch.zeros(4))
