"""The top-share merges (surgical, override, keep_direct): one exact threshold over the whole
model, against a reference written the way the paper's code does it (every `state_dict()`
entry's |think - direct| in bf16, concatenated, torch.kthvalue), on tied and untied models;
endpoints, scope=tensor, the tie rule and slice-size invariance."""
from __future__ import annotations

import pytest
import torch

import merging.engine
import merging.statistics
from merging.apply import MethodRun, TensorStates, tied_embeddings
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.feed import TensorMerger
from merging.inplace import InPlaceMerger
from merging.parents import ParentTensors

pytestmark = pytest.mark.fast

METHODS = ("surgical", "override", "keep_direct")


def paper_state_dicts(dirs, dtype=torch.bfloat16):
    """direct and think as the paper loads them: a transformers model's state_dict(), where a
    tied model lists its embedding twice (embed_tokens and lm_head)."""
    from transformers import AutoModelForCausalLM

    return [AutoModelForCausalLM.from_pretrained(dirs[r], dtype=dtype).state_dict()
            for r in ("direct", "think")]


def reference(sd_d, sd_t, method, lam, select="largest", paper=False):
    """Concatenate every |think - direct| (bf16 subtraction), take torch.kthvalue. paper=True:
    the paper's int() count and kthvalue positions; else k = round(lam * n), ties kept."""
    diffs = torch.cat([(sd_t[k] - sd_d[k]).abs().reshape(-1).float() for k in sd_d])
    n = diffs.numel()
    if paper:
        num = int(n * lam)
        pos = max(1, n - num) if select == "largest" else num
    else:
        k = round(lam * n)
        pos = (n - k + 1 if select == "largest" else k) if k > 0 else 0
    thr = torch.kthvalue(diffs, pos).values if pos > 0 else None
    out = {}
    for name in sd_d:
        d, t = sd_d[name], sd_t[name]
        diff = (t - d).abs().float()
        if thr is None:
            mask = torch.zeros_like(diff, dtype=torch.bool)
        else:
            mask = diff >= thr if select == "largest" else diff <= thr
        avg = (d + t) / 2.0
        chosen, other = {"surgical": (t, d), "override": (t, avg), "keep_direct": (avg, d)}[method]
        out[name] = torch.where(mask, chosen, other)
    return out


@pytest.mark.parametrize("paper", [False, True])
@pytest.mark.parametrize("method,select", [("surgical", "largest"), ("override", "largest"),
                                           ("keep_direct", "largest"), ("keep_direct", "smallest")])
@pytest.mark.parametrize("which", ["tied_bf16", "untied_f32"])
def test_matches_the_concatenating_reference(request, tmp_path, which, method, select, paper):
    dirs = request.getfixturevalue(which)
    dtype = torch.bfloat16 if which == "tied_bf16" else torch.float32
    # the paper's quirk counts a tied embedding twice; our default counts stored tensors once
    sd_d, sd_t = (paper_state_dicts(dirs, dtype) if paper else
                  [load_state_dict(dirs[r]) for r in ("direct", "think")])
    lams = [0.01, 0.05, 0.5]
    params = {"select": select} if method == "keep_direct" else {}
    outs = merge(method, dirs["direct"], dirs["think"], lams=lams, params=params,
                 outs=[tmp_path / str(i) for i in range(3)], progress=False, paper_compat=paper)
    for lam, out in zip(lams, outs):
        got = load_state_dict(out)
        want = reference(sd_d, sd_t, method, lam, select, paper)
        assert ("lm_head.weight" in got) is (which == "untied_f32")  # stored as the parents store it
        for name, x in got.items():
            assert torch.equal(x, want[name]), (name, lam)


def test_a_per_tensor_strength_gets_each_tensors_own_exact_threshold(untied_f32, tmp_path):
    """With a schedule, a tensor at lam_t takes what the whole-model threshold at lam_t takes
    (float32: one refined bin per distinct lam_t), the same on disk and in memory."""
    def strength(name, lam):
        return lam * (0.5 if "mlp" in name else 1.0)

    (out,) = merge("surgical", untied_f32["direct"], untied_f32["think"], lams=[0.4], outs=[tmp_path / "m"],
                   strength=strength, progress=False)
    parents = ParentTensors({"direct": untied_f32["direct"], "think": untied_f32["think"]})
    sd_d, sd_t = (load_state_dict(untied_f32[r]) for r in ("direct", "think"))
    fed = dict(TensorMerger(parents, "surgical", strength=strength).tensors(0.4))
    at = {lam: reference(sd_d, sd_t, "surgical", lam) for lam in (0.2, 0.4)}
    for name, x in load_state_dict(out).items():
        assert torch.equal(x, at[strength(name, 0.4)][name]) and torch.equal(x, fed[name]), name


def test_paper_compat_counts_the_tied_embedding_twice(tied_bf16, untied_f32, tmp_path):
    def stats(dirs, paper):
        run = MethodRun("surgical", seed=0, has_base=False, paper_compat=paper,
                        tied=tied_embeddings(ParentTensors(dirs_of(dirs)).names))
        TensorStates(run, ParentTensors(dirs_of(dirs)))
        return run.stats.total

    def dirs_of(dirs):
        return {"direct": dirs["direct"], "think": dirs["think"]}

    emb = ParentTensors(dirs_of(tied_bf16)).numel("model.embed_tokens.weight")
    assert stats(tied_bf16, True) == stats(tied_bf16, False) + emb
    assert stats(untied_f32, True) == stats(untied_f32, False)


@pytest.mark.parametrize("method", METHODS)
def test_endpoints(family, method):
    parents = ParentTensors({"direct": family["direct"], "think": family["think"]})
    merger = TensorMerger(parents, method)
    for lam in (0.0, 1.0):
        for name, x in merger.tensors(lam):
            d, t = (parents.get(name)[r].float() for r in ("direct", "think"))
            mid = ((d + t) * 0.5).to(x.dtype)
            want = {("surgical", 0.0): d, ("surgical", 1.0): t, ("override", 0.0): mid,
                    ("override", 1.0): t, ("keep_direct", 0.0): d, ("keep_direct", 1.0): mid}[method, lam]
            assert torch.equal(x, want.to(x.dtype)), (name, lam)


def test_float32_threshold_is_exact_after_the_refining_pass(untied_f32):
    """Float32 differences are (almost surely) distinct: exactly round(lam * n) entries taken."""
    parents = ParentTensors({"direct": untied_f32["direct"], "think": untied_f32["think"]})
    n = sum(parents.numel(k) for k in parents.floats())
    merger = TensorMerger(parents, "surgical")
    assert merger.stats.fine_needed
    for lam in (0.013, 0.3, 0.77):
        taken = sum(int((x != parents.get(k)["direct"]).sum()) for k, x in merger.tensors(lam))
        assert taken == round(lam * n)
    assert len(merger.stats.fine) == 3  # one refined bin per lam


def test_ties_at_the_threshold_are_all_taken():
    """|think - direct| = 1, 2, 2, 2, 3 (two tensors): a 40% share (k = 2) has threshold 2 and
    takes the three tied 2s too; 20% takes the 3 alone; 0% none; default counting."""
    direct = {"a": torch.zeros(3, dtype=torch.bfloat16), "b": torch.zeros(2, dtype=torch.bfloat16)}
    think = {"a": torch.tensor([2.0, 1.0, 3.0], dtype=torch.bfloat16),
             "b": torch.tensor([2.0, 2.0], dtype=torch.bfloat16)}
    merger = TensorMerger(ParentTensors({"direct": direct, "think": think}), "surgical")
    for lam, want_a, want_b in ((0.4, [2, 0, 3], [2, 2]), (0.2, [0, 0, 3], [0, 0]), (0.0, [0, 0, 0], [0, 0])):
        got = dict(merger.tensors(lam))
        assert got["a"].tolist() == want_a and got["b"].tolist() == want_b, lam


@pytest.mark.parametrize("method", METHODS)
def test_scope_tensor_thresholds_each_tensor(tied_bf16, method):
    sd_d, sd_t = paper_state_dicts(tied_bf16)
    parents = ParentTensors({"direct": tied_bf16["direct"], "think": tied_bf16["think"]})
    merger = TensorMerger(parents, method, {"scope": "tensor"})
    assert merger.run.elementwise and merger.stats is None  # no model-wide passes
    for name, x in merger.tensors(0.1):
        want = reference({name: sd_d[name]}, {name: sd_t[name]}, method, 0.1)[name]
        assert torch.equal(x, want), name


@pytest.mark.parametrize("method", METHODS + ("dare_ties",))
def test_engine_in_place_and_feed_agree_in_small_slices(family, tmp_path, monkeypatch, method):
    base = family["base"] if method == "dare_ties" else None
    lams = [0.03, 0.6]
    whole = merge(method, family["direct"], family["think"], base, lams=lams, seed=3,
                  outs=[tmp_path / "w0", tmp_path / "w1"], progress=False)
    monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", 100)
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", 100)
    sliced = merge(method, family["direct"], family["think"], base, lams=lams, seed=3,
                   outs=[tmp_path / "s0", tmp_path / "s1"], progress=False)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(family["think"])
    merger = InPlaceMerger(model, family["direct"], family["think"], base, method=method, seed=3)
    roles = {"direct": family["direct"], "think": family["think"], **({"base": base} if base else {})}
    feed = TensorMerger(ParentTensors(roles), method, seed=3)
    for lam, w, s in zip(lams, whole, sliced):
        a, b = load_state_dict(w), load_state_dict(s)
        merger.apply(lam)
        live = model.state_dict()
        fed = dict(feed.tensors(lam))
        for name in a:
            assert torch.equal(a[name], b[name]), (name, "slice size")
            assert torch.equal(a[name], live[name].to(a[name].dtype)), (name, "in place")
            assert torch.equal(a[name], fed[name]), (name, "feed")


@pytest.mark.parametrize("method,select,paper,which", [
    ("surgical", "largest", False, "tied_bf16"), ("override", "largest", True, "tied_bf16"),
    ("keep_direct", "smallest", True, "untied_f32"), ("keep_direct", "largest", False, "untied_f32")])
def test_scope_tensor_streams_in_slices_with_each_tensors_kthvalue(request, tmp_path, monkeypatch, method,
                                                                   select, paper, which):
    """Slices of 100 entries (every matrix cut in several): per-tensor histogram passes give
    the threshold torch.kthvalue finds on the whole tensor, bit for bit, on disk and in memory."""
    dirs = request.getfixturevalue(which)
    monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", 100)
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", 100)
    params = {"scope": "tensor", **({"select": select} if method == "keep_direct" else {})}
    lams = [0.03, 0.5]
    outs = merge(method, dirs["direct"], dirs["think"], lams=lams, params=params, paper_compat=paper,
                 outs=[tmp_path / str(i) for i in range(2)], progress=False)
    sd_d, sd_t = (load_state_dict(dirs[r]) for r in ("direct", "think"))
    feed = TensorMerger(ParentTensors({"direct": dirs["direct"], "think": dirs["think"]}), method, params,
                        paper_compat=paper)
    for lam, out in zip(lams, outs):
        fed = dict(feed.tensors(lam))
        for name, x in load_state_dict(out).items():
            want = reference({name: sd_d[name]}, {name: sd_t[name]}, method, lam, select, paper)[name]
            assert torch.equal(x, want) and torch.equal(x, fed[name]), (name, lam)


@pytest.mark.parametrize("dtype,diffs,expect", [
    # bf16: |difference| 2, 1, 3, 2, 2; 40% (k = 2): threshold 2, the tied 2s taken too
    (torch.bfloat16, [2.0, 1.0, 3.0, 2.0, 2.0], {0.4: [1, 0, 1, 1, 1], 0.2: [0, 0, 1, 0, 0], 0.0: [0] * 5}),
    # float32, 1.25 and 1.25 + 2**-22 in one high-bits bin: the refining pass tells them apart
    (torch.float32, [1.25, 1.25 + 2 ** -22, 3.0, 1.25, 1.25],
     {0.4: [0, 1, 1, 0, 0], 0.6: [1, 1, 1, 1, 1], 0.2: [0, 0, 1, 0, 0]}),
])
def test_scope_tensor_tie_rule_holds_across_slices(dtype, diffs, expect):
    """One tensor cut in slices of 2: k = round(lam * 5), every entry tied with the k-th
    largest taken, whichever slice it is in."""
    direct = torch.zeros(5, dtype=dtype)
    think = torch.tensor(diffs, dtype=dtype)
    run = MethodRun("surgical", {"scope": "tensor"}, has_base=False)
    run.refine(list(expect), ["w"])
    cuts = [(a, a + 2) for a in range(0, 5, 2)]
    stats = run.tensor_stats("w", (5,), lambda previous: ((direct[a:b], think[a:b], None, 5) for a, b in cuts))
    assert stats.total == 5 and stats.fine_needed is (dtype == torch.float32)
    for lam, taken in expect.items():
        out = torch.empty(5, dtype=dtype)
        for a, b in cuts:
            run.into(run.prepare("w", direct[a:b], think[a:b], None, None, stats), "w", lam, out[a:b])
        assert (out != 0).int().tolist() == taken, lam
