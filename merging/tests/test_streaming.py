"""Every method in bounded memory: per-tensor statistics from slices, then a per-slice merge,
checked against the whole-tensor code they replace (kept here as references, verbatim in
what they compute) and against closed forms."""
from __future__ import annotations

import math

import pytest
import torch

import merging.draws
import merging.engine
import merging.methods.lore
import merging.statistics
import merging.spectral
from merging.apply import MethodRun
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.inplace import InPlaceMerger
from merging.registry import get_method
from merging.spectral import low_rank, svt
from merging.draws import PackedKeep, keep_mask
from merging.steps import (high_histogram, keep_at_least, keep_top_magnitude, locate, midpoint, task_vector,
                           tensor_generator, threshold_passes)

pytestmark = pytest.mark.fast


def chunked(monkeypatch, n):
    monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", n)
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", n)


def bf16_trio(n, seed=0):
    """Parents stored in bf16 around a common base: task vectors full of repeated magnitudes."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, generator=g).bfloat16()
    return [(base.float() + 0.01 * torch.randn(n, generator=g)).bfloat16() for _ in range(2)] + [base]


def same_bits(a, b) -> bool:
    """Equal bit patterns (torch.equal would let -0.0 pass for +0.0)."""
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


def driver_prepare(method, params, d, t, b, name="w", seed=0):
    return MethodRun(method, params, seed=seed, has_base=b is not None).prepare(name, d, t, b)


# -- exact top-k thresholds ------------------------------------------------------------------

def test_locate_by_hand():
    hist = torch.tensor([5.0, 0.0, 2.0, 3.0])  # bins from low to high; 3 entries in the top bin
    assert locate(hist, 1) == (3, 1) and locate(hist, 3) == (3, 3)
    assert locate(hist, 4) == (2, 1) and locate(hist, 6) == (0, 1) and locate(hist, 10) == (0, 5)


@pytest.mark.parametrize("chunk", [97, 1000, 1 << 20])
@pytest.mark.parametrize("density", [0.0001, 0.1, 0.5, 0.9, 0.99])
def test_ties_trim_equals_whole_tensor_kthvalue(monkeypatch, chunk, density):
    chunked(monkeypatch, chunk)
    d, t, b = bf16_trio(5003)
    state = driver_prepare("ties", {"density": density}, d, t, b)
    for got, x in zip((state.direct, state.think), (d, t)):
        assert torch.equal(got, keep_top_magnitude(task_vector(x, b), density))  # revision 1's trim


def old_ties_at(direct, think, base, lam):
    """Revision 1's TIES merge of trimmed task vectors, verbatim: torch.where election and a
    zero-started disjoint mean."""
    w = (1.0 - lam, lam)
    ws = direct * w[0]
    ws += think * w[1]
    elected = torch.where(ws >= 0, 1.0, -1.0).to(ws)
    num, den = torch.zeros_like(elected), torch.zeros_like(elected)
    for x, wx in zip((direct, think), w):
        agree = ((x != 0) & (torch.sign(x) == elected)).to(elected)
        num += (x * wx) * agree
        den += agree * wx
    safe = torch.where(den != 0, den, 1.0)
    return base + torch.where(den != 0, num / safe, 0.0)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5, 1.0, -0.5, 1.5])
@pytest.mark.parametrize("density", [0.3, 1.0])
def test_ties_merge_is_revision_1_bit_for_bit(lam, density):
    d, t, b = (x.float() for x in bf16_trio(20_000, seed=4))
    b[::7] = -0.0  # signed zeros in the base: the one place a zero's sign could show
    d[::11], t[::13] = b[::11], b[::13]  # entries with no task vector
    state = driver_prepare("ties", {"density": density}, d, t, b)
    old = [keep_top_magnitude(task_vector(x, b), density) for x in (d, t)]
    assert same_bits(get_method("ties").at(state, lam), old_ties_at(*old, b, lam))


@pytest.mark.parametrize("chunk", [64, 1 << 20])
@pytest.mark.parametrize("mask_rate", [0.0, 0.5, 0.9, 0.9999, 1.0])
def test_twin_topk_equals_whole_tensor_kthvalue(monkeypatch, chunk, mask_rate):
    chunked(monkeypatch, chunk)
    d, t, _ = bf16_trio(3001, seed=1)
    state = driver_prepare("twin", {"mask_rate": mask_rate}, d, t, None)
    half = (t.float() - d.float()) * 0.5
    old = keep_top_magnitude(half, 1.0 - mask_rate)
    assert torch.equal(state.delta, old)
    for lam in (0.0, 0.3, 1.0):  # the merge itself: revision 1's bits, zero signs included
        assert same_bits(get_method("twin").at(state, lam), midpoint(d, t) + old * (2.0 * lam - 1.0))


def test_threshold_keeps_every_tie_and_nothing_at_count_zero():
    x = torch.tensor([1.0, -2.0, 2.0, 0.5, 2.0])

    def thresholds(fraction):
        start = merging.apply.TensorStart((5,), 5, None, None)
        p1, p2 = threshold_passes(lambda d, t, b: {"x": d}, fraction)
        return merging.statistics.run_passes((p1, p2), {}, lambda prev: [(x, x, None, 5)], start)["x"]

    assert thresholds(0.2) == 2.0  # k = 1: the largest magnitude, held three times: all kept
    assert torch.equal(keep_at_least(x, thresholds(0.2)), torch.tensor([0.0, -2.0, 2.0, 0.0, 2.0]))
    assert thresholds(0.6) == 2.0 and thresholds(0.8) == 1.0
    assert math.isnan(thresholds(0.05))  # round(0.25) = 0 entries kept
    assert torch.equal(keep_at_least(x, thresholds(0.05)), torch.zeros(5))


def test_high_histogram_orders_like_magnitudes():
    x = torch.tensor([0.0, -1e-30, 1.0, -3.5, float("inf")])
    bins = (high_histogram(x) > 0).nonzero().reshape(-1).tolist()
    assert len(bins) == 5 and bins == sorted(bins)  # ascending |x| -> ascending bins


# -- DARE: the same draws whatever the slicing ------------------------------------------------

def old_drop(x, p, gen, rescale):
    """Revision 1's dare_drop, verbatim: torch.rand's draws, a boolean mask and torch.where."""
    keep = (torch.rand(x.shape, generator=gen, dtype=torch.float32) >= p).to(x.device)
    kept = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
    if rescale == "inverse":
        return kept / (1.0 - p)
    kept_l1 = float(kept.abs().sum(dtype=torch.float64))
    return kept * (float(x.abs().sum(dtype=torch.float64)) / kept_l1) if kept_l1 > 0 else kept


def old_dare(d, t, b, p, rescale, seed, name):
    """Revision 1's prepare, whole tensors: the direct mask drawn first, then the thinking one."""
    gen = tensor_generator(seed, name)
    return tuple(x if p == 0 else old_drop(x, p, gen, rescale) for x in (task_vector(d, b), task_vector(t, b)))


@pytest.mark.parametrize("numel,pieces", [(2500, [2500]), (2500, [3, 997, 8, 1492]), (16, [16]), (0, [0])])
def test_packed_direct_mask_is_the_first_draws_and_leaves_the_generator_after_them(monkeypatch, numel, pieces):
    monkeypatch.setattr(merging.draws, "DRAW_CHUNK", 512)  # several chunks, the last one short
    whole = torch.rand(2 * numel, generator=tensor_generator(4, "x"))
    gen = tensor_generator(4, "x")
    packed = PackedKeep(gen, numel, 0.3)
    got = torch.cat([keep_mask((n,), 0.3, packed) for n in pieces])  # unaligned slices included
    assert torch.equal(got, (whole[:numel] >= 0.3).float())
    assert torch.equal(keep_mask((numel,), 0.3, gen), (whole[numel:] >= 0.3).float())  # gen continues
    with pytest.raises(ValueError, match="more entries"):
        keep_mask((1,), 0.3, packed)


@pytest.mark.parametrize("chunk,p", [(97, 0.2), (1024, 0.9), (1 << 20, 0.2), (1 << 20, 0.0)])
def test_dare_inverse_is_revision_1_bit_for_bit(tied_bf16, tmp_path, monkeypatch, chunk, p):
    chunked(monkeypatch, chunk)
    (out,) = merge("dare", tied_bf16["direct"], tied_bf16["think"], tied_bf16["base"], lams=[0.3],
                   outs=[tmp_path / "m"], params={"p": p}, seed=5, progress=False, dtype="float32")
    merged = load_state_dict(out)
    parents = [load_state_dict(tied_bf16[r]) for r in ("direct", "think", "base")]
    for name, tensor in merged.items():
        d, t, b = (sd[name].float() for sd in parents)
        tau_d, tau_t = old_dare(d, t, b, p, "inverse", 5, name)
        expect = b + (tau_d * 0.7 + tau_t * 0.3)  # revision 1's apply_task_vectors
        assert same_bits(tensor, expect), name


@pytest.mark.parametrize("chunk", [97, 1 << 20])
def test_dare_l1_keeps_each_tensors_norm(monkeypatch, chunk):
    chunked(monkeypatch, chunk)
    d, t, b = (x.float() for x in bf16_trio(4000, seed=3))
    state = driver_prepare("dare", {"p": 0.4, "rescale": "l1"}, d, t, b, seed=2)
    old = old_dare(d, t, b, 0.4, "l1", 2, "w")
    for got, ref, x in zip((state.direct, state.think), old, (d, t)):
        assert torch.equal(got != 0, ref != 0)  # the same mask
        if chunk > 4000:
            assert torch.equal(got, ref)  # one slice: the same sums, the same bits
        torch.testing.assert_close(got, ref, rtol=1e-6, atol=0)
        assert got.abs().sum().item() == pytest.approx(task_vector(x, b).abs().sum().item(), rel=1e-5)


# -- SLERP: the angle from slice sums ----------------------------------------------------------

@pytest.mark.parametrize("chunk", [50, 1 << 20])
def test_slerp_from_slice_sums_matches_whole_tensor_angle(monkeypatch, chunk):
    chunked(monkeypatch, chunk)
    g = torch.Generator().manual_seed(8)
    d, t = torch.randn(40, 30, generator=g).bfloat16(), torch.randn(40, 30, generator=g).bfloat16()
    state = driver_prepare("slerp", {}, d, t, None)
    df, tf = d.double(), t.double()
    cos = float((df * tf).sum() / (df.norm() * tf.norm()))
    assert state.cos == pytest.approx(cos, rel=1e-12, abs=1e-12) and state.omega == pytest.approx(math.acos(cos))
    out = torch.empty(40, 30, dtype=torch.bfloat16)
    get_method("slerp").into(state, 0.25, out)
    w = math.acos(cos)
    expect = (math.sin(0.75 * w) * df + math.sin(0.25 * w) * tf) / math.sin(w)
    torch.testing.assert_close(out.double(), expect, rtol=1e-2, atol=1e-2)  # bf16 output


# -- LoRE and Twin svd: the Gram route ---------------------------------------------------------

@pytest.mark.parametrize("shape", [(300, 8), (64, 2, 4), (40, 40)])
def test_lore_gram_route_equals_the_svd(monkeypatch, shape):
    monkeypatch.setattr(merging.methods.lore, "GRAM_MIN_ELEMS", 100)
    chunked(monkeypatch, 96)  # row slices of whole rows (96 = 12 rows of 8)
    g = torch.Generator().manual_seed(5)
    d = torch.randn(shape, generator=g)
    t = d + 0.3 * torch.randn(shape, generator=g)
    s = torch.linalg.svdvals(((t - d) / 2).reshape(shape[0], -1))
    mu = float(s[1] + s[2]) / 2  # shrinks all but two singular values to zero
    state = driver_prepare("lore", {"mu": mu}, d, t, None)
    expect, rank = svt((t - d) / 2, mu)
    assert state.rank == rank == 2 and state.delta.shape == d.shape
    torch.testing.assert_close(state.delta, expect, rtol=0, atol=2e-6)


def test_twin_svd_gram_route_is_the_best_rank_r_approximation(monkeypatch):
    monkeypatch.setattr(merging.spectral, "GRAM_MIN_ELEMS", 100)
    chunked(monkeypatch, 60)
    g = torch.Generator().manual_seed(6)
    d, t = torch.randn(200, 6, generator=g), torch.randn(200, 6, generator=g)
    state = driver_prepare("twin", {"mode": "svd", "rank_frac": 0.34}, d, t, None)
    expect, rank = low_rank((t - d) / 2, 0.34)
    assert rank == 3
    # both in float32 products of O(1) entries, here with close singular values: ~10 ulps
    torch.testing.assert_close(state.delta, expect, rtol=0, atol=1e-5)
    assert torch.linalg.matrix_rank(state.delta) == 3


@pytest.mark.parametrize("method,params", [("lore", {"mu": 0.01}), ("twin", {"mode": "svd"})])
def test_gram_route_streams_on_disk_as_in_memory(tied_bf16, tmp_path, monkeypatch, method, params):
    from transformers import AutoModelForCausalLM

    for module in (merging.spectral, merging.methods.lore):  # the embedding (96 x 32) takes it
        monkeypatch.setattr(module, "GRAM_MIN_ELEMS", 1000)
    chunked(monkeypatch, 320)  # 10 rows a slice
    (out,) = merge(method, tied_bf16["direct"], tied_bf16["think"], lams=[0.8], outs=[tmp_path / "m"],
                   params=params, progress=False)
    target = AutoModelForCausalLM.from_pretrained(tied_bf16["think"])
    InPlaceMerger(target, tied_bf16["direct"], tied_bf16["think"], method=method, params=params).apply(0.8)
    live = target.state_dict()
    for name, tensor in load_state_dict(out).items():
        assert torch.equal(live[name], tensor), name


@pytest.mark.parametrize("method,params,exact", [("lore", {"mu": 0.5}, lambda h: svt(h, 0.5)[0]),
                                                 ("twin", {"mode": "svd", "rank_frac": 0.5},
                                                  lambda h: low_rank(h, 0.5)[0])])
def test_large_wide_tensors_go_through_the_left_gram_matrix(monkeypatch, method, params, exact):
    for module in (merging.spectral, merging.methods.lore):
        monkeypatch.setattr(module, "GRAM_MIN_ELEMS", 100)
    g = torch.Generator().manual_seed(9)
    d = torch.randn(6, 50, generator=g)
    t = d + torch.randn(6, 50, generator=g)
    state = driver_prepare(method, params, d, t, None)
    torch.testing.assert_close(state.delta, exact((t - d) / 2), rtol=0, atol=1e-5)
