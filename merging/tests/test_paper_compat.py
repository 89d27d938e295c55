"""paper_compat: the paper's code's quirks, pinned against references written the way its
code runs (loops over a transformers model's `state_dict()`, where a tied model lists its
embedding twice, and in-place `+=` on the shared tensor), on a tied and an untied model; off,
nothing changes, and on an untied model the tied quirks change nothing."""
from __future__ import annotations

import json

import pytest
import torch

import merging.engine
import merging.statistics
from evals.cli import main
from merging.apply import MethodRun, TensorStates, tied_embeddings
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.feed import TensorMerger
from merging.inplace import InPlaceMerger
from merging.parents import ParentTensors

pytestmark = pytest.mark.fast
EMB = "model.embed_tokens.weight"


def models(dirs, roles=("base", "direct", "think")):
    from transformers import AutoModelForCausalLM

    return [AutoModelForCausalLM.from_pretrained(dirs[r], dtype=torch.float32) for r in roles]


def paper_ties(dirs, weights, density):
    """The paper's TIES (weighted sign consensus, local int() trim), its final in-place `+=`
    over every state_dict() key, in float32."""
    base, *fts = models(dirs)
    sd_b, sds = base.state_dict(), [m.state_dict() for m in fts]
    merged_tv = {}
    for name in sd_b:
        deltas = []
        for sd in sds:
            delta = sd[name] - sd_b[name]
            if density < 1.0:
                k = int(density * delta.numel())
                thr = torch.topk(delta.abs().reshape(-1), k).values[-1]
                delta = delta * (delta.abs() >= thr)
            deltas.append(delta)
        stack = torch.stack(deltas)
        w = torch.tensor(weights).view(-1, *[1] * (stack.ndim - 1))
        weighted = stack * w
        majority = (weighted.sum(0) >= 0).float() * 2 - 1
        agree = (stack.sign() == majority).float()
        den = (w * agree).sum(0)
        den[den.abs() < 1e-8] = 1.0
        merged_tv[name] = (weighted * agree).sum(0) / den
    out = base.state_dict()
    for name, tv in merged_tv.items():
        out[name] += tv  # a tied model: embed_tokens and lm_head are one tensor, added to twice
    return {k: v.clone() for k, v in out.items()}


def paper_emr_rescalers(dirs):
    base, *fts = models(dirs)
    sd_b, sds = base.state_dict(), [m.state_dict() for m in fts]
    scales, new = [0.0, 0.0], [0.0, 0.0]
    for name in sd_b:
        taus = [sd[name] - sd_b[name] for sd in sds]
        flag = ((taus[0] + taus[1]) / 2 > 0).float() * 2 - 1
        masks = [(t * flag) > 0 for t in taus]
        uni = torch.maximum(*[(m * t).abs() for m, t in zip(masks, taus)]) * flag
        for i in range(2):
            scales[i] += float(taus[i].abs().mean())
            new[i] += float((uni * masks[i]).abs().mean())
    return [s / n for s, n in zip(scales, new)]


@pytest.mark.parametrize("density", [1.0, 0.3])
def test_ties_compat_adds_the_tied_embedding_twice_like_the_paper(tied_bf16, tmp_path, density):
    lam = 0.7
    ref = paper_ties(tied_bf16, [1 - lam, lam], density)
    args = (tied_bf16["direct"], tied_bf16["think"], tied_bf16["base"])
    (compat,) = merge("ties", *args, lams=[lam], outs=[tmp_path / "c"], params={"density": density},
                      dtype="float32", paper_compat=True, progress=False)
    (plain,) = merge("ties", *args, lams=[lam], outs=[tmp_path / "p"], params={"density": density},
                     dtype="float32", progress=False)
    compat, plain, base = load_state_dict(compat), load_state_dict(plain), load_state_dict(tied_bf16["base"])
    for name, x in compat.items():
        assert torch.allclose(x, ref[name], rtol=1e-5, atol=1e-7), name
    tau_plain, tau_compat = plain[EMB] - base[EMB].float(), compat[EMB] - base[EMB].float()
    assert torch.allclose(tau_compat, 2 * tau_plain, rtol=1e-4, atol=1e-7)
    assert tau_plain.abs().max() > 1e-3  # the quirk is not a no-op here
    if density < 1:  # the paper keeps int(0.3 * 512) = 153 entries of k_proj, round() 154
        name = "model.layers.0.self_attn.k_proj.weight"
        parents = ParentTensors({r: tied_bf16[r] for r in ("direct", "think", "base")})
        kept = [int((MethodRun("ties", {"density": density}, has_base=True, paper_compat=c)
                     .prepare(name, *parents.inputs(name)).direct != 0).sum()) for c in (True, False)]
        assert kept == [153, 154]


def test_emr_compat_counts_the_tied_embedding_twice_in_the_rescalers(tied_bf16):
    ref = paper_emr_rescalers(tied_bf16)
    roles = {r: tied_bf16[r] for r in ("direct", "think", "base")}
    got = {}
    for compat in (False, True):
        parents = ParentTensors(roles)
        run = MethodRun("emr", has_base=True, paper_compat=compat, tied=tied_embeddings(parents.names))
        TensorStates(run, parents)
        got[compat] = [run.stats["r_direct"], run.stats["r_think"]]
    assert got[True] == pytest.approx(ref, rel=1e-5)
    assert abs(got[False][0] - ref[0]) > 1e-4 * ref[0]  # the default counts it once


@pytest.mark.parametrize("method,params", [("ties", {"density": 1.0}), ("emr", {}), ("surgical", {}),
                                           ("keep_direct", {"select": "smallest"})])
def test_on_an_untied_model_compat_changes_only_the_counting(untied_f32, tmp_path, method, params):
    """No tied embedding: ties (density 1) and emr are bit-identical; the top-share merges
    differ only by the paper's counting, which here takes one more entry (largest) or the same
    (smallest, k = int = round at this n)."""
    base = untied_f32["base"] if method in ("ties", "emr") else None
    out = {}
    for compat in (False, True):
        (o,) = merge(method, untied_f32["direct"], untied_f32["think"], base, lams=[0.25], params=params,
                     outs=[tmp_path / str(compat)], paper_compat=compat, progress=False)
        out[compat] = load_state_dict(o)
        assert json.loads((o / "merge_provenance.json").read_text())["paper_compat"] is compat
    changed = sum(int((out[True][k] != out[False][k]).sum()) for k in out[True])
    assert changed == (1 if method == "surgical" else 0)


def test_cli_flag_reaches_provenance(tied_bf16, tmp_path):
    out = tmp_path / "m"
    assert main(["merge", "--method", "surgical", "--direct", str(tied_bf16["direct"]), "--think",
                 str(tied_bf16["think"]), "--lam", "0.05", "--paper-compat", "--out", str(out),
                 "--no-progress"]) == 0
    prov = json.loads((out / "merge_provenance.json").read_text())
    assert prov["paper_compat"] is True and prov["tied_visited_twice"] == [EMB]
    assert prov["model_stats"]["counting"] == "paper"


@pytest.mark.parametrize("method", ["ties", "emr", "surgical"])
def test_compat_is_the_same_through_every_driver_on_a_tied_model(tied_bf16, tmp_path, method):
    from transformers import AutoModelForCausalLM

    base = tied_bf16["base"] if method != "surgical" else None
    (out,) = merge(method, tied_bf16["direct"], tied_bf16["think"], base, lams=[0.3], outs=[tmp_path / "m"],
                   paper_compat=True, progress=False)
    model = AutoModelForCausalLM.from_pretrained(tied_bf16["think"])  # lm_head tied: the same tensor
    merger = InPlaceMerger(model, tied_bf16["direct"], tied_bf16["think"], base, method=method, paper_compat=True)
    assert merger.run.tied == (EMB,)
    merger.apply(0.3)
    roles = {"direct": tied_bf16["direct"], "think": tied_bf16["think"], **({"base": base} if base else {})}
    fed = dict(TensorMerger(ParentTensors(roles), method, paper_compat=True).tensors(0.3))
    live = model.state_dict()
    for name, x in load_state_dict(out).items():
        assert torch.equal(x, live[name]) and torch.equal(x, fed[name]), name


@pytest.mark.parametrize("method,params", [("ties", {"density": 0.3}), ("emr", {})])
def test_compat_streams_its_per_tensor_thresholds_in_slices(tied_bf16, tmp_path, monkeypatch, method, params):
    """paper_compat through the bounded-memory route: TIES' int() count and the tied
    embedding's second visit reach the per-tensor threshold passes, so slices of 100 elements
    give the bits of the whole tensors (engine and tensor feed alike)."""
    args = (tied_bf16["direct"], tied_bf16["think"], tied_bf16["base"])
    (whole,) = merge(method, *args, lams=[0.7], outs=[tmp_path / "w"], params=params, paper_compat=True,
                     progress=False)
    monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", 100)
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", 100)
    (cut,) = merge(method, *args, lams=[0.7], outs=[tmp_path / "c"], params=params, paper_compat=True,
                   progress=False)
    roles = {r: tied_bf16[r] for r in ("direct", "think", "base")}
    fed = dict(TensorMerger(ParentTensors(roles), method, params, paper_compat=True).tensors(0.7))
    whole, cut = load_state_dict(whole), load_state_dict(cut)
    assert any(merging.statistics.CHUNK_ELEMS < x.numel() for x in cut.values())
    for name, x in whole.items():
        assert torch.equal(x, cut[name]) and torch.equal(x, fed[name]), name
