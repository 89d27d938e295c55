"""Model-wide statistics passes: the generic hook (`merging.statistics`) that EMR's rescalers
use today and a whole-model threshold can use later. Checked against the same statistic
computed by hand on the concatenation of every tensor, whatever the slicing."""
from __future__ import annotations

import pytest
import torch

from merging.apply import MethodRun
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.inplace import InPlaceMerger
from merging.registry import get_method
from merging.statistics import StatPass, additive_pass, run_passes, sliced

pytestmark = pytest.mark.fast

SHAPES = {"a": (7, 5), "b": (13,), "c": (3, 2, 4)}


def parents(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return {role: {n: torch.randn(s, generator=g) for n, s in SHAPES.items()} for role in ("direct", "think", "base")}


def inputs_of(sd):
    return lambda name: (sd["direct"][name], sd["think"][name], sd["base"][name])


# pass 1: the largest |think - direct| in the model; pass 2: how many entries reach half of
# it, and a histogram (a tensor-valued sum) of |think - direct| in bins up to that largest
class Max:
    """A pass whose parts are not additive keeps them per slice: here the model-wide max."""

    def __init__(self):
        self.seen: list[float] = []

    def collect(self, d, t, b, params, numel, previous):
        self.seen.append(float((t - d).abs().max()))
        return {}

    def finish(self, sums, params, previous):
        return {"largest": max(self.seen)}


def count_and_histogram(d, t, b, params, numel, previous):
    diff = (t - d).abs()
    top = previous["largest"]
    bins = torch.clamp((diff / top * params["bins"]).long(), max=params["bins"] - 1)
    return {"at_least_half": float((diff >= top / 2).sum()),
            "hist": torch.bincount(bins, minlength=params["bins"]).double()}


@pytest.mark.parametrize("chunk", [1, 6, 35, 1 << 20])
def test_two_passes_see_every_entry_once_per_pass_whatever_the_slicing(chunk):
    sd = parents()
    m = Max()
    passes = (StatPass(m.collect, m.finish),
              StatPass(count_and_histogram, lambda sums, params, previous: {**previous, **sums}))
    calls = []

    def slices(previous):
        calls.append(previous)
        return sliced(list(SHAPES), inputs_of(sd), chunk)

    got = run_passes(passes, {"bins": 4}, slices)
    diff = torch.cat([(sd["think"][n] - sd["direct"][n]).abs().reshape(-1) for n in SHAPES])  # (total,)
    top = float(diff.max())
    assert calls == [None, {"largest": top}]  # the second pass reads the first one's result
    assert got["largest"] == top
    assert got["at_least_half"] == float((diff >= top / 2).sum())
    expect = torch.bincount(torch.clamp((diff / top * 4).long(), max=3), minlength=4).double()
    assert torch.equal(got["hist"], expect) and float(got["hist"].sum()) == diff.numel()


def test_emr_statistics_are_one_additive_pass_equal_to_its_collect_and_finish():
    spec = get_method("emr")
    (stat,) = spec.model_statistics
    sd = parents(1)
    got = run_passes(spec.model_statistics, {}, lambda previous: sliced(list(SHAPES), inputs_of(sd), 10))
    sums: dict[str, float] = {}
    for d, t, b, numel in sliced(list(SHAPES), inputs_of(sd), 10):
        for key, value in spec.collect(d, t, b, {}, numel).items():
            sums[key] = sums.get(key, 0.0) + value
    assert got == spec.finish(sums, {}) and set(got) == {"r_direct", "r_think"}
    assert not get_method("linear").model_statistics and not get_method("ties").model_statistics
    wrapped = additive_pass(spec.collect, spec.finish)
    assert run_passes((wrapped,), {}, lambda previous: sliced(list(SHAPES), inputs_of(sd), 10)) == got


def test_no_passes_give_no_statistics_and_feed_nothing():
    assert run_passes((), {}, lambda previous: pytest.fail("no pass should read the model")) is None


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_a_per_tensor_strength_reaches_at_tensor_by_tensor(lam):
    sd = parents(2)
    schedule = {"a": 0.25, "b": 0.75}  # "c" keeps the point's lam
    run = MethodRun("linear", seed=0, has_base=False, strength=lambda name, x: schedule.get(name, x))
    for name in SHAPES:
        d, t = sd["direct"][name], sd["think"][name]
        out = torch.empty_like(d)
        run.into(run.prepare(name, d, t, None), name, lam, out)
        assert torch.equal(out, torch.lerp(d, t, schedule.get(name, lam))), name


def test_the_driver_checks_the_base_in_the_callers_words():
    with pytest.raises(ValueError, match=r"method 'emr' needs a base model: pass base= \(--base\)"):
        MethodRun("emr", has_base=False, where="base= (--base)")
    with pytest.raises(ValueError, match="method 'linear' does not use a base model: drop base="):
        MethodRun("linear", has_base=True)


def test_a_strength_schedule_is_the_same_through_the_engine_and_in_place(tied_bf16, tmp_path):
    """Layer 0 at 0.2, the norms at 0.9, the rest at the point's lam: each tensor equals
    lerp(direct, think, its own lam), on disk and in place alike."""
    def schedule(name: str, lam: float) -> float:
        return 0.2 if ".layers.0." in name else 0.9 if "norm" in name else lam

    (out,) = merge("linear", tied_bf16["direct"], tied_bf16["think"], lams=[0.6], outs=[tmp_path / "m"],
                   progress=False, strength=schedule)
    merged, d, t = (load_state_dict(x) for x in (out, tied_bf16["direct"], tied_bf16["think"]))
    lams = {schedule(n, 0.6) for n in merged}
    assert lams == {0.2, 0.9, 0.6}
    for name, x in merged.items():
        assert torch.equal(x, torch.lerp(d[name], t[name], schedule(name, 0.6))), name
    target = torch.nn.Module()
    for i, name in enumerate(d):
        target.register_buffer(f"p{i}", torch.empty_like(d[name]))
    names = dict(zip(d, (f"p{i}" for i in range(len(d)))))

    class Named(torch.nn.Module):  # the parents' names on a plain module
        def state_dict(self, *args, **kwargs):
            return {n: getattr(target, b) for n, b in names.items()}

    InPlaceMerger(Named(), d, t, method="linear", strength=schedule).apply(0.6)
    for name, buf in names.items():
        assert torch.equal(getattr(target, buf), merged[name]), name
