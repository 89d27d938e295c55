"""Claims as data: each judge's status on constructed curves, and messages that read as sentences."""
from __future__ import annotations

import re

import pytest

from evals.claims.catalog import (CLAIMS, TITLES, ClaimCase, Thresholds, Verdict, count_verdicts,
                                   judge_all, judge_case, judge_linear_vs_slerp, judge_no_collapse,
                                   judge_pareto, judge_phase_transition, judge_routing_gain,
                                   judge_smooth, judge_sparse_degradation, plan_claims)
from evals.analysis.points import Point
from evals.analysis.points import Curve
from evals.analysis.synthetic import synthetic_curve
from evals.analysis.table import curves_from_records
from evals.records import SampleRecord

pytestmark = pytest.mark.fast

LAMS = [round(0.1 * i, 1) for i in range(11)]
UP = [1000 + 9000 * x for x in LAMS]
STEP = [0.3 if x < 0.65 else 0.8 for x in LAMS]
B = 200


def curve(acc, tokens=UP, method="linear", **kw):
    return synthetic_curve(method, LAMS, acc, tokens, **kw)


CASES = [
    # (judge, curve kwargs, expected status, words the sentence must contain)
    (judge_phase_transition, dict(acc=STEP, n_problems=30, k=10, coupled=False), "holds", ["abruptly", "lam=0.6"]),
    (judge_phase_transition, dict(acc=[0.5] * 11, coupled=False, n_problems=100), "inconclusive", ["no transition"]),
    (judge_phase_transition, dict(acc=[0.3 + 0.5 * x for x in LAMS]), "fails", ["gradually"]),
    (judge_smooth, dict(acc=STEP), "holds", ["tokens rise", "set aside"]),
    (judge_smooth, dict(acc=[0.3, 0.3, 0.3, 0.6, 0.6, 0.6, 0.6, 0.9, 0.9, 0.9, 0.9]), "fails",
     ["jumps", "beyond the 10 pts"]),
    (judge_smooth, dict(acc=STEP, tokens=UP[::-1]), "holds", ["tokens fall with lam"]),
    (judge_smooth, dict(acc=STEP, tokens=[5000, 1000, 9000, 2000, 8000, 3000, 7000, 4000, 6000, 5500, 5200]),
     "fails", ["not monotone"]),
    (judge_no_collapse, dict(acc=STEP), "holds", ["none of 9 merges"]),
    (judge_no_collapse, dict(acc=[0.3, 0.3, 0.3, 0.1, 0.05, 0.1, 0.3, 0.8, 0.8, 0.8, 0.8]), "fails",
     ["below both parents"]),
    (judge_no_collapse, dict(acc=STEP, malformed=[0, 0, 0, 0, 0.4, 0, 0, 0, 0, 0, 0]), "fails",
     ["malformed output reaches"]),
    (judge_pareto, dict(acc=STEP), "holds", ["beat a parent", "thinking"]),
    (judge_pareto, dict(acc=[0.3 + 0.5 * x ** 3 for x in LAMS], tokens=[1000 + 9000 * x ** 0.2 for x in LAMS]),
     "fails", ["none of 9 merges", "best was"]),
    (judge_pareto, dict(acc=STEP, tokens=None), "inconclusive", ["token counts are missing"]),
    (judge_routing_gain, dict(acc=STEP), "holds", ["coin"]),
    (judge_routing_gain, dict(acc=[0.3 + 0.5 * x ** 3 for x in LAMS]), "fails", ["no merge beats"]),
]


@pytest.mark.parametrize("judge, kw, status, words", CASES,
                         ids=[f"{c[0].__name__}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_curve_judges(judge, kw, status, words):
    v = judge(curve(**kw), n_boot=B)
    assert v.status == status, v.message
    for word in words:
        assert word in v.message, v.message


def test_sparse_degradation_detected_on_degraded_and_not_on_identical():
    linear = curve(STEP)
    bad = judge_sparse_degradation(curve([0.3 if x < 0.65 else 0.55 for x in LAMS], method="dare(p=0.9)"),
                                   linear, n_boot=B, movement={"think_rel": 0.05, "cos": float("nan")})
    assert bad.status == "holds" and "loses to linear" in bad.message and "think_rel 0.05" in bad.message
    assert "cos n/a" in bad.message
    assert bad.numbers["d_hv_ci"][1] < 0 and bad.numbers["movement"] == {"think_rel": 0.05, "cos": None}
    same = judge_sparse_degradation(curve(STEP, method="ties(density=0.2)"), linear, n_boot=B)
    assert same.status == "fails" and "does not lose" in same.message
    alone = judge_sparse_degradation(curve(STEP, method="dare"), None, n_boot=B)
    assert alone.status == "inconclusive" and "no linear curve" in alone.message


def test_sparse_degradation_compares_the_lams_both_curves_have():
    # linear on 0.05 steps, the sparse method on the adaptive start grid: the hypervolume is
    # taken on 0, .25, .5, .75, 1 for both, so linear's 16 extra points buy it nothing
    acc = lambda xs: [0.3 if x < 0.65 else 0.8 for x in xs]
    dense, start = [round(0.05 * i, 2) for i in range(21)], [0.0, 0.25, 0.5, 0.75, 1.0]
    tok = lambda xs: [1000 + 9000 * x for x in xs]
    linear = synthetic_curve("linear", dense, acc(dense), tok(dense))
    shared = synthetic_curve("linear", start, acc(start), tok(start))
    sparse = synthetic_curve("dare", start, acc(start), tok(start))
    v, ref = (judge_sparse_degradation(sparse, c, n_boot=B) for c in (linear, shared))
    assert list(v.numbers["lams"]) == [0.25, 0.5, 0.75] and v.numbers["hv_linear"] == ref.numbers["hv_linear"]
    assert v.numbers["d_hv_ci"] == ref.numbers["d_hv_ci"] and "on the shared lams" in v.message
    few = synthetic_curve("dare", [0.0, 0.25, 0.5, 1.0], acc([0.0, 0.25, 0.5, 1.0]), tok([0.0, 0.25, 0.5, 1.0]))
    v = judge_sparse_degradation(few, linear, n_boot=B)
    assert v.status == "inconclusive" and "share 2 merge strengths" in v.message and "3 needed" in v.message


def test_sparse_degradation_without_tokens_uses_accuracy():
    linear = curve(STEP, tokens=None)
    v = judge_sparse_degradation(curve([0.3 if x < 0.65 else 0.55 for x in LAMS], tokens=None,
                                       method="dare"), linear, n_boot=B)
    assert v.status == "holds" and v.numbers["d_hv"] is None and "no token counts" in v.message


@pytest.mark.parametrize("slerp_acc, status", [
    (STEP, "holds"),
    ([a + 0.15 if 0 < x < 1 else a for x, a in zip(LAMS, STEP)], "fails"),
])
def test_linear_vs_slerp(slerp_acc, status):
    v = judge_linear_vs_slerp(curve(STEP), curve(slerp_acc, method="slerp"), n_boot=B)
    assert v.status == status, v.message
    assert v.method == "slerp" and v.numbers["reference"] == "linear"


def test_too_few_points_are_inconclusive_not_errors():
    short = synthetic_curve("linear", [0.0, 0.5, 1.0], [0.3, 0.5, 0.8], [1, 2, 3])
    assert judge_phase_transition(short, n_boot=B).status == "inconclusive"
    only_parents_missing = Curve(short.pair, "linear", short.benchmark, short.interior())
    assert judge_no_collapse(only_parents_missing, n_boot=B).status == "inconclusive"


def test_aggregate_tables_are_judged_with_binomial_noise():
    pts = [Point.aggregate("t", "linear", x, "b", accuracy=a, n=30, mean_tokens=t)
           for x, a, t in zip(LAMS, STEP, UP)]
    v = judge_phase_transition(Curve("t", "linear", "b", tuple(pts), pts[0], pts[-1]), n_boot=B)
    assert v.status == "holds" and 0.6 <= v.numbers["centre"] <= 0.7


def test_plan_claims_applies_each_claim_where_it_applies():
    methods = ["linear", "slerp", "dare(p=0.9)", "ties(density=0.2)", "emr"]
    cases = plan_claims(["qwen3-4b"], methods, ["aime25", "gpqa"])
    per_curve = 5 * len(methods) * 2
    assert len(cases) == per_curve + 2 * 2 + 1 * 2
    sparse = {c.method for c in cases if c.claim == "sparse_degradation"}
    assert sparse == {"dare(p=0.9)", "ties(density=0.2)"}
    assert {(c.method, c.reference) for c in cases if c.claim == "linear_vs_slerp"} == {("slerp", "linear")}
    assert len({c.id for c in cases}) == len(cases)
    with pytest.raises(ValueError, match="unknown claim"):
        plan_claims(["p"], methods, ["b"], claims=["smooth", "telepathy"])


def test_missing_curve_is_inconclusive_with_the_reason():
    v = judge_case(ClaimCase("smooth", "p", "lore", "b"), [curve(STEP)], n_boot=B)
    assert v.status == "inconclusive" and "no results for lore" in v.message


def test_judge_all_is_seeded_and_ordered():
    curves = [curve(STEP, pair="p", benchmark="b"), curve(STEP, method="slerp"),
              curve([0.3 if x < 0.65 else 0.6 for x in LAMS], method="dare(p=0.9)")]
    first = judge_all(curves, n_boot=B, seed=7)
    again = judge_all(curves, n_boot=B, seed=7)
    assert [v.to_dict() for v in first] == [v.to_dict() for v in again]
    assert [v.claim for v in first] == sorted((v.claim for v in first), key=CLAIMS.index)
    assert len(first) == 5 * 3 + 1 + 1
    counts = count_verdicts(first)
    assert counts["total"] == len(first) and counts["made"] == counts["holds"] + counts["fails"]


_SENTENCE = re.compile(r"^[A-Z][^:]+: [a-z0-9+\-].*\.$")


def test_every_message_reads_as_a_sentence():
    curves = [curve(STEP), curve(STEP, method="slerp"), curve([0.5] * 11, method="dare", coupled=False),
              curve(STEP, tokens=None, method="emr")]
    for v in judge_all(curves, n_boot=B):
        assert _SENTENCE.match(v.message), v.message
        assert v.message.startswith(TITLES[v.claim] + ": ")
        for junk in ("nan", "None", "inf", "[]", "{"):
            assert junk not in v.message, v.message
        if v.status != "inconclusive":
            assert re.search(r"\d", v.message), v.message


def test_pareto_message_names_the_parent_and_the_numbers():
    v = judge_pareto(curve([0.3 + 0.5 * x ** 3 for x in LAMS], tokens=[1000 + 9000 * x ** 0.2 for x in LAMS]),
                     n_boot=B)
    assert re.search(r"best was lam=0\.\d vs (direct|thinking): [+-]\d+\.\d pts \[.*\] with [+-][\d,]+ tokens", v.message), v.message


@pytest.mark.parametrize("bad", [{"level": 1.5}, {"smooth_max_jump": -0.1}, {"token_min_spearman": 2.0},
                                 {"slerp_tolerance": float("nan")}])
def test_thresholds_validate(bad):
    with pytest.raises(ValueError, match="Thresholds"):
        Thresholds(**bad)


def test_stricter_threshold_changes_the_verdict():
    # the same data judged with a 1-step width limit instead of 2: a 1.5-step-wide rise fails
    acc = [0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 0.7, 0.8, 0.8, 0.8]
    lenient = judge_phase_transition(curve(acc), Thresholds(abrupt_max_width_steps=4.0), n_boot=B)
    strict = judge_phase_transition(curve(acc), Thresholds(abrupt_max_width_steps=0.5), n_boot=B)
    assert lenient.status == "holds" and strict.status == "fails", (lenient.message, strict.message)


def test_verdict_rejects_unknown_status_and_is_json_safe():
    with pytest.raises(ValueError, match="status"):
        Verdict("smooth", "p", "m", "b", "maybe", "x")
    v = Verdict("smooth", "p", "m", "b", "holds", "Smooth curve: fine.", {"ci": (0.1, float("nan"))})
    assert v.numbers == {"ci": [0.1, None]} and Verdict.from_dict(v.to_dict()) == v


def test_transition_reports_reasoning_onset_and_truncation():
    def rec(lam, i):
        think = lam > 0.6
        return SampleRecord(model="m", model_fingerprint=str(lam), pair="t", method="linear", lam=lam,
                            benchmark="b", benchmark_version="1", problem_id=f"q{i:02d}", sample_index=0,
                            prompt_mode="chat_template", sampling={}, seed=0, text="", generated_tokens=100,
                            reasoning_tokens=0, answer_tokens=0, finish_reason="stop",
                            truncated=lam == 0.9 and i < 6, malformed=False,
                            correct=(i % 10) < (3 + 5 * think), extracted=None, meta={"thought": think})

    (c,) = curves_from_records([rec(x, i) for x in LAMS for i in range(40)])
    v = judge_phase_transition(c, n_boot=B)
    assert v.status == "holds", v.message
    assert "Outputs start to reason around lam=0.65" in v.message and v.numbers["thought_centre"] == 0.65
    assert "Up to 15% of outputs hit the token cap (lam=0.9)" in v.message
    assert v.numbers["max_truncated"] == pytest.approx(0.15)


# Existence claims across an unsampled gap. Direct .3 at 1,000 tokens, thinking 1.0 at 9,000;
# merges below the rise .3 at 1,500, above it 1.0 at 10,000: none beats the coin (gain <= 0)
# and each is clearly worse than both parents on one axis. On the coarse grid 0, .25, .5, .75, 1
# the step .5 -> .75 could hold a merge at .75's accuracy and .5's cost, which would beat
# both: neither claim can fail there. Sampled every 0.1 (the reference width), both fail.
COARSE = [0.0, 0.25, 0.5, 0.75, 1.0]


def _on_the_line(lams, rise_at):
    acc = [0.3 if x < rise_at else 1.0 for x in lams]
    tokens = [1000 if x == 0 else 1500 if x < rise_at else 10000 for x in lams]
    return acc, tokens


@pytest.mark.parametrize("judge, want_fine", [(judge_routing_gain, "fails"), (judge_pareto, "fails")])
def test_an_existence_claim_cannot_fail_across_a_step_wider_than_the_reference(judge, want_fine):
    acc, tokens = _on_the_line(COARSE, 0.6)
    coarse = synthetic_curve("linear", COARSE, acc, tokens, think=(1.0, 9000.0))
    v = judge(coarse, n_boot=B)
    assert v.status == "inconclusive", v.message
    assert "lam 0.5->0.75" in v.message and "split it" in v.message
    assert [tuple(s[:2]) for s in v.numbers["open_steps"]] == [(0.5, 0.75)]
    acc, tokens = _on_the_line(LAMS, 0.6)
    fine = synthetic_curve("linear", LAMS, acc, tokens, think=(1.0, 9000.0))
    v = judge(fine, n_boot=B)
    assert v.status == want_fine, v.message
    assert v.numbers["open_steps"] == []


def test_an_abrupt_rise_inside_a_step_wider_than_the_reference_is_not_resolved():
    # .3 -> .8 between .5 and .75 with nothing inside: the fit's width (any narrow rise fits)
    # says nothing about the 0.2 limit, so neither the transition nor smoothness can hold;
    # the same rise on the 0.1 grid (inside .5-.6) holds both
    coarse = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 0.9, 1.0]
    c = synthetic_curve("linear", coarse, [0.3 if x < 0.6 else 0.8 for x in coarse], [1000 + 9000 * x for x in coarse])
    v = judge_phase_transition(c, n_boot=B)
    assert v.status == "inconclusive" and "lam 0.5->0.75" in v.message and "not resolved" in v.message, v.message
    assert v.numbers["unresolved_steps"] == [[0.5, 0.75]]
    assert judge_smooth(c, n_boot=B).status == "inconclusive"
    fine = curve([0.3 if x < 0.55 else 0.8 for x in LAMS])
    assert judge_phase_transition(fine, n_boot=B).status == "holds"
    assert judge_smooth(fine, n_boot=B).status == "holds"


def test_smooth_does_not_fail_a_rise_the_logistic_cannot_yet_confirm():
    # six strengths: AICc's small-sample penalty keeps the logistic from beating a line, so the
    # fitted rise (.4 -> .6) is not set aside, but it may be the transition: unsure, not failed;
    # a jump outside it still fails
    lams = [0, 0.25, 0.4, 0.5, 0.6, 1.0]
    c = synthetic_curve("linear", lams, [0.3, 0.3, 0.3, 0.6, 1.0, 1.0], [4, 4, 4, 13, 25, 25], n_problems=240)
    v = judge_smooth(c, n_boot=B)
    assert v.status == "inconclusive" and "may be the transition" in v.message, v.message
    assert v.numbers["unconfirmed_steps"] == [[0.4, 0.5], [0.5, 0.6]]
    lams = [0, 0.1, 0.2, 0.4, 0.5, 0.6, 1.0]
    c = synthetic_curve("linear", lams, [0.3, 0.3, 0.6, 0.6, 0.6, 1.0, 1.0], [4, 4, 4, 4, 13, 25, 25], n_problems=240)
    assert judge_smooth(c, n_boot=B).status == "fails"
