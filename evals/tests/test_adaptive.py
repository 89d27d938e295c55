"""Adaptive strengths: the proposal rules by hand, the search on synthetic logistic curves of
the paper's shape (30 problems, jump near 0.65) against a dense grid's fit, and the driver's
rounds over ordinary sweeps (a fake run_fn writing records)."""
import math
from dataclasses import replace

import pytest

from evals.analysis.points import Curve, Point
from evals.analysis.synthetic import synthetic_point
from evals.analysis.transition import fit_logistic
from evals.claims.verdicts import Thresholds
from evals.sweep.adaptive import Proposal, propose, routing_need, run_adaptive, search_curve, split_point
from evals.sweep.adaptive_settings import AdaptiveSettings
from evals.sweep.config import SweepConfig
from evals.tests.records_factory import make_record
from evals.store import ResultsStore
from evals.sweep.sequential import restamp, run_sequential

pytestmark = pytest.mark.fast


def logistic(lam: float, c: float, width: float, lo: float = 0.2, hi: float = 0.75) -> float:
    return lo + (hi - lo) / (1.0 + math.exp(-(lam - c) * 2.0 * math.log(9.0) / width))


def agg(lam, acc, tokens, method="linear"):
    return Point.aggregate("p", None if method is None else method, lam, "b", accuracy=acc, n=30, mean_tokens=tokens)


def step_curve(lams, accs, tokens):
    """Merges at `lams`; the direct parent as the first merge, the thinking one as the last
    merge at one more token."""
    pts = tuple(agg(x, a, t) for x, a, t in zip(lams, accs, tokens))
    return Curve("p", "linear", "b", pts, agg(0.0, accs[0], tokens[0], None), agg(1.0, accs[-1], tokens[-1] + 1, None))


def test_too_few_points_for_the_logistic_get_support_at_the_widest_cheapest_step():
    # series 0, .25, .5, .75, 1: AICc is undefined on 5 points (n - k - 1 = 0 for the logistic),
    # so the transition judge is open; every step is 0.25 wide, midpoint costs 4, 4, 14, 24.5
    curve = step_curve([0.25, 0.5, 0.75], [0.3, 0.3, 1.0], [4.0, 4.0, 24.0])
    new = propose(curve, AdaptiveSettings())
    assert [(p.lam, p.why, p.cost) for p in new] == [(0.1, "support", 4.0)]  # the 0.1 grid's point nearest .125
    assert new[0].tokens == 4.0 * 30  # budgeted: the dearer neighbour's 4 tokens x 30 samples


def test_a_settled_transition_inside_a_gap_wider_than_the_reference_step_is_split():
    # 7 points: the logistic wins by far, but the rise sits in .5-.75 (0.25 > 0.1 wide), where
    # a fitted width says nothing about the 0.2 limit, and which the smooth judge cannot set
    # aside as inside the rise -> split it at the 0.1 grid's point inside (.6), for both (smooth
    # first in ORDER); once the step is .5-.6 (0.1) and the centre CI within 0.05, nothing more
    gap = step_curve([0.125, 0.25, 0.375, 0.5, 0.75], [0.3, 0.3, 0.3, 0.3, 1.0], [4, 4, 4, 4, 24])
    assert [(p.lam, p.why, p.serves) for p in propose(gap, AdaptiveSettings())] == [(0.6, "smooth", 2)]
    done = step_curve([0.125, 0.25, 0.375, 0.5, 0.6, 0.75], [0.3, 0.3, 0.3, 0.3, 1.0, 1.0], [4, 4, 4, 4, 24, 24])
    assert propose(done, AdaptiveSettings()) == []


def test_smooth_step_wider_than_twice_the_reference_is_split_at_its_cheap_end():
    # transition .2 -> .3; then +12 pts over .5 -> .9 (0.4 wide): the smooth judge cannot certify
    # it, so a 0.1 step at its cheap end (.5, 20 tokens < 26): .6, before the centre's split
    curve = step_curve([0.1, 0.2, 0.3, 0.4, 0.5, 0.9], [0.1, 0.1, 0.8, 0.8, 0.8, 0.92], [4, 4, 20, 20, 20, 26])
    new = propose(curve, AdaptiveSettings(max_points=12))
    assert (new[0].lam, new[0].why, new[0].cost) == (0.6, "smooth", 21.5)
    assert split_point(0.5, 0.7, "smooth", 20, 26, 0.1) == 0.6 and split_point(0.5, 0.9, "smooth", 30, 26, 0.1) == 0.8


@pytest.mark.parametrize("a, b, why, costs, want", [
    (0.5, 0.75, "routing", (4, 25), 0.6), (0.25, 0.5, "routing", (4, 13), 0.4),  # the 0.1 grid's point inside
    (0.5, 0.62, "smooth", (13, 25), 0.6), (0.25, 0.75, "smooth", (4, 25), 0.3),  # cheap end's step <= 0.1
    (0.25, 0.75, "smooth", (25, 4), 0.7), (0.5, 0.75, "centre", (4, 25), 0.6), (0, 0.25, "support", (4, 4), 0.1),
    (0.5, 0.6, "centre", (4, 25), 0.55), (0.6, 0.65, "pareto", (4, 25), 0.62),  # within 0.1: the 0.01 lattice
])
def test_smooth_and_routing_points_lie_on_the_reference_grid(a, b, why, costs, want):
    assert split_point(a, b, why, *costs, 0.1, 0.01) == want


def test_pareto_knee_until_a_merge_beats_a_parent():
    # thinking parent 1.0 at 24 tokens; .6 matches it at 24 (no gain), .5 is cheaper: a merge in
    # .5-.6 may match at fewer tokens -> .55; with .6 at 23 tokens (exact table means) the judge
    # already holds and nothing is split
    lams = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    acc, tok = [0.3, 0.3, 0.3, 0.3, 0.6, 1.0, 1.0, 1.0, 1.0], [4, 4, 4, 4, 14, 24, 24, 24, 24]

    def curve(tokens):
        pts = tuple(agg(x, a, t) for x, a, t in zip(lams, acc, tokens))
        return Curve("p", "linear", "b", pts, agg(0.0, 0.3, 4, None), agg(1.0, 1.0, 24, None))

    assert [(p.lam, p.why) for p in propose(curve(tok), AdaptiveSettings(max_points=12))] == [(0.55, "pareto")]
    assert propose(curve(tok[:5] + [23] + tok[6:]), AdaptiveSettings(max_points=12)) == []


@pytest.mark.parametrize("lams, accs, tokens, want", [
    # direct .3 at 4 tokens, thinking 1.0 at 25; every merge on the coin's line (gain 0: fails).
    # .5-.75: .75's accuracy at .5's 4 tokens beats the line by 1.0 - .3 = 70 pts (split at .6)
    ([0.25, 0.5, 0.75], [0.3, 0.3, 1.0], [4, 4, 25], [(2, 0.7)]),
    # .5 three points above the coin: .25-.5 could hold at most 3 pts, below one new point's
    # binomial noise 1.96 sqrt(.33 x .67 / 30) = 16.8 pts: only .5-.75 is asked for
    ([0.25, 0.5, 0.75], [0.3, 0.33, 1.0], [4, 4, 25], [(2, 0.7)]),
    # the same rise inside a 0.1 step (.5-.6): the reference grid's resolution, nothing asked
    ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], [0.3] * 5 + [1.0] * 4, [4] * 5 + [25] * 4, []),
    # .5 already right at 4 tokens: beats the coin (holds), nothing asked
    ([0.25, 0.5, 0.75], [0.3, 1.0, 1.0], [4, 4, 25], []),
])
def test_routing_asks_for_a_step_that_could_hold_a_merge_above_the_coin(lams, accs, tokens, want):
    pts = tuple(agg(x, a, t) for x, a, t in zip(lams, accs, tokens))
    curve = Curve("p", "linear", "b", pts, agg(0.0, 0.3, 4, None), agg(1.0, 1.0, 25, None))
    lam, acc = [0.0] + lams + [1.0], [0.3] + accs + [1.0]
    got = routing_need(curve, lam, acc, [4] + tokens + [25], Thresholds(), 200, 0)
    assert [(i, round(g, 6)) for i, _, g in got] == want  # step i: series[i] -> series[i + 1], parents included


def test_a_step_two_reasons_ask_for_is_charged_half_its_cost():
    assert Proposal(0.62, "centre", 0.7, cost=14.0, serves=2).rank == (2, 7.0)
    assert Proposal(0.62, "routing", 0.7, cost=14.0).rank == (3, 14.0)


@pytest.mark.parametrize("centre", [0.6, 0.65, 0.7])
@pytest.mark.parametrize("width", [0.02, 0.1])
def test_search_finds_the_dense_grids_centre_on_30_problems(centre, width):
    def point_at(lam, method="linear"):
        a = logistic(lam, centre, width)
        return synthetic_point("syn", method, lam, "b", accuracy=a, tokens=1000 + 5000 * (a - 0.2),
                               n_problems=30, k=10, seed=1)

    settings = AdaptiveSettings(max_points=10)
    curve, rounds = search_curve(point_at, settings, direct=point_at(0.0, None), think=point_at(1.0, None),
                                 n_boot=100)
    dense = [i / 100 for i in range(101)]
    c_dense = fit_logistic(dense, [point_at(x).accuracy for x in dense]).c
    s = curve.series()
    c_adaptive = fit_logistic([p.lam for p in s], [p.accuracy for p in s]).c
    assert abs(c_adaptive - c_dense) <= 0.05
    assert len(curve.points) <= 10 < len(dense) and rounds <= 8  # transition rounds, then routing, then Pareto
    lams = sorted(curve.lams)
    assert min(b - a for a, b in zip(lams, lams[1:])) >= settings.resolution - 1e-9


@pytest.mark.parametrize("raw, msg", [
    ({"strat": [0.5]}, "unknown key"), ({"target": 0.0}, "adaptive.target"),
    ({"start": [0.2, 0.4, 0.6], "max_points": 2}, "adaptive.max_points"), ({"centre": 1.5}, "adaptive.centre"),
    ({"max_points": "many"}, "max_points an integer"), ({"min_step": 0.5}, "adaptive.min_step"),
])
def test_settings_refuse_bad_input_with_one_line(raw, msg):
    with pytest.raises(ValueError, match=msg):
        SweepConfig.from_mapping({"pair": "tiny", "lams": "adaptive", "adaptive": raw})


def test_config_reads_lams_adaptive_and_the_probe_centre():
    cfg = SweepConfig.from_mapping({"pair": "tiny", "lams": "adaptive", "adaptive": {"centre": 0.5, "target": 0.04}})
    assert cfg.lams == (0.25, 0.4, 0.5, 0.6)  # the default start + the 0.1 grid's points bracketing .46-.54 and cfg.adaptive.resolution == 0.01
    with pytest.raises(ValueError, match="needs lams: adaptive"):
        SweepConfig.from_mapping({"pair": "tiny", "adaptive": {"target": 0.05}})


def step_at_06(calls: list):
    """A fake sweep: a step at 0.6 on 20 problems, correct iff lam > 0.6 (tokens 4 below, 25
    above); each call's (methods, lams) is appended to `calls`."""
    def run_fn(cfg, progress=False):
        calls.append((cfg.methods, cfg.lams))
        recs = []
        for method, lam in [(None, 0.0), (None, 1.0)] + [(cfg.methods[0], x) for x in cfg.lams]:
            for i in range(20):
                r = make_record(f"q{i:02d}", correct=lam > 0.6, tokens=25 if lam > 0.6 else 4, lam=lam,
                                fingerprint=f"{method}@{lam}", thought=lam > 0.6)
                recs.append(replace(r, method=method, benchmark="synthetic"))
        return recs
    return run_fn


def test_driver_runs_rounds_of_ordinary_sweeps_until_nothing_is_proposed():
    calls = []
    cfg = SweepConfig.from_mapping({"pair": "tiny", "methods": ["linear"], "lams": "adaptive"})
    records, rounds = run_adaptive(cfg, run_fn=step_at_06(calls), n_boot=50)
    lams = rounds[-1].lams["linear"]
    assert calls[0] == (("linear",), (0.25, 0.5)) and calls[-1][1] == lams  # the default start stops at .5
    # support at the cheapest step wider than 0.1 (.125 -> .1, the 0.1 grid's point), then
    # again (.25-.5 -> .4; AICc needs more points); the transition's points before routing:
    # .5-1 changes accuracy over a step wider than 0.2 -> .6, 0.1 above its cheap end, then
    # .6-1 -> .7; the rise is then resolved at the reference step and no step wider than 0.1
    # could hold a merge above the coin (routing asks for nothing); then the knee: thinking's
    # accuracy first at .7, .6 cheaper -> .65 -> .62 -> .61 (correct iff lam > .6); .6-.61 is
    # one min_step wide
    assert lams == (0.1, 0.25, 0.4, 0.5, 0.6, 0.61, 0.62, 0.65, 0.7)
    assert [tuple(p.why for p in r.added["linear"]) for r in rounds[:-1]] == [
        ("support",), ("support",), ("smooth",), ("smooth",), ("pareto",), ("pareto",), ("pareto",)]
    assert not rounds[-1].added and rounds[-1].tokens == sum(r.generated_tokens for r in records)


# -- sequential sampling ---------------------------------------------------------------------

def sampled_run(acc_at, tokens_at, calls, generated):
    """A fake sweep at temperature > 0: sample i of problem q is correct iff a fixed uniform
    draw u(q, i) < acc(lam); stored records are reused like the real store's keys."""
    import numpy as np

    u = np.random.default_rng(7).random((40, 16))

    def run_fn(cfg, progress=False):

        n = cfg.params_for("synthetic").n
        calls.append((cfg.methods, cfg.lams, n))
        stored = ResultsStore(cfg.results).keys()
        out = []
        for method, lam in [(None, 0.0), (None, 1.0)] + [(cfg.methods[0], x) for x in cfg.lams]:
            for q in range(40):
                for i in range(n):
                    r = make_record(f"q{q:02d}", i, correct=bool(u[q, i] < acc_at(lam)), tokens=tokens_at(lam),
                                    lam=lam, fingerprint=f"{method}@{lam}")
                    out.append(replace(r, method=method, benchmark="synthetic", sampling={"n": n, "seed": 0}))
        generated.extend(r for r in out if r.key() not in stored)
        return out
    return run_fn


def test_sequential_grows_only_points_whose_verdicts_can_change(tmp_path):
    # accuracy .3 (the direct level) at .25 and .5, .38 at .55, .8 (thinking) from .75 on; the
    # draws are shared, so equal levels give identical samples. .1 rides with the parents' first
    # full-count call (a sweep call always evaluates the parents)

    acc = {0.0: 0.3, 0.1: 0.3, 0.25: 0.3, 0.5: 0.3, 0.55: 0.38, 0.75: 0.8, 1.0: 0.8}
    calls, generated = [], []
    cfg = SweepConfig.from_mapping({"pair": "tiny", "methods": ["linear"], "lams": [0.1, 0.25, 0.5, 0.55, 0.75],
                                    "sampling": {"temperature": 0.6, "n": 8}, "sequential": {"first": 2},
                                    "results": str(tmp_path / "r.jsonl")})
    records, rounds = run_sequential(cfg, run_fn=sampled_run(acc.get, lambda lam: 4 if lam < 0.6 else 25, calls,
                                                                   generated))
    final = rounds[-1].counts
    assert final[(None, 0.0)] == final[(None, 1.0)] == 8 and not rounds[-1].grown
    # .25: no step to either neighbour (identical samples), as costly as direct, clearly less
    # accurate than thinking: nothing to decide -> it stays at 2 samples
    assert final[("linear", 0.25)] == 2
    # .5 -> .55 is an 8-pt step: whether it exceeds 10 pts is open at 2 samples -> both grown
    assert final[("linear", 0.55)] > 2 and final[("linear", 0.5)] > 2
    assert sum(1 for r in records if r.method == "linear" and r.lam == 0.25) == 40 * 2
    # parents were generated once at 8; later calls found them re-filed, not generated, and a
    # grown point generated only its new sample indices
    assert calls[0] == (("linear",), (0.1,), 8) and calls[1][2] == 2
    assert sum(1 for r in generated if r.method is None) == 2 * 40 * 8
    assert not any(r.sample_index < 2 and r.sampling["n"] > 2 for r in generated if r.method and r.lam != 0.1)
    first = [r for r in records if r.lam == 0.55 and r.sample_index < 2]
    assert {r.sampling["n"] for r in first} == {final[("linear", 0.55)]}
    assert [r.sampling["n"] for r in restamp(first, 16)] == [16] * len(first)


def test_sequential_needs_a_temperature():
    with pytest.raises(ValueError, match="needs sampling.temperature > 0"):
        SweepConfig.from_mapping({"pair": "tiny", "sequential": {"first": 2}})
    with pytest.raises(ValueError, match="sequential.first"):
        SweepConfig.from_mapping({"pair": "tiny", "sampling": {"temperature": 0.6}, "sequential": {"first": 0}})


def test_a_budget_refund_admits_the_rounds_next_point_before_it_ends():
    # two methods with the step at .6 (tokens 4 below, 25 above, 20 problems). After the start
    # (parents 80 + 500; per method .25 80, .5 80, .75 500) and round 1's support points (.1,
    # 80 each): 2,060. Round 2 asks both for .6 (the rise in .5-.75), each bounded by its dearer
    # neighbour's 500; with 580 left only one fits at its bound. It runs, spends 80 (.6 is below
    # the step), and the refund admits the other in the same round: 2,220 in all, within budget
    calls = []
    cfg = SweepConfig.from_mapping({"pair": "tiny", "methods": ["linear", "slerp"], "lams": "adaptive",
                                    "adaptive": {"start": [0.25, 0.5, 0.75], "max_tokens": 2060 + 580}})
    records, rounds = run_adaptive(cfg, run_fn=step_at_06(calls), n_boot=50)
    assert rounds[1].tokens == 2060
    assert {m: [p.lam for p in ps] for m, ps in rounds[1].added.items()} == {"linear": [0.6], "slerp": [0.6]}
    assert [c[1] for c in calls[-2:]] == [(0.1, 0.25, 0.5, 0.6, 0.75)] * 2  # one after the other
    assert sum(r.generated_tokens for r in records) == 2220 <= cfg.adaptive.max_tokens
    assert not rounds[-1].added  # .7 (bound 500) does not fit the 420 left
