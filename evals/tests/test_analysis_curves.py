"""Curves from records and from outside tables; the paired bootstrap's invariants."""
from __future__ import annotations

import numpy as np
import pytest

from evals.analysis.bootstrap import ci, problem_weights, resample
from evals.analysis.points import Point
from evals.method_labels import method_base, method_family, method_params
from evals.claims.catalog import plan_claims
from evals.method_labels import is_sparse
from evals.analysis.synthetic import synthetic_point
from evals.analysis.table import curves_from_records, curves_from_table
from evals.records import SampleRecord
from evals.analysis.bootstrap import simultaneous_ci

pytestmark = pytest.mark.fast


def rec(method, lam, pid, idx, correct, tokens, *, pair="p", bench="b", thought=None,
        malformed=False, model=None, meta=None):
    m = dict(meta or {})
    if thought is not None:
        m["thought"] = thought
    label = model or f"{pair}/{method}@{lam}"
    return SampleRecord(model=label, model_fingerprint=label, pair=pair, method=method, lam=lam,
                        benchmark=bench, benchmark_version="1", problem_id=pid, sample_index=idx,
                        prompt_mode="chat_template", sampling={"t": 0.6}, seed=0, text="x",
                        generated_tokens=tokens, reasoning_tokens=0, answer_tokens=tokens,
                        finish_reason="stop", truncated=False, malformed=malformed,
                        correct=correct, extracted=None, meta=m)


@pytest.mark.parametrize("label, base, family, params", [
    ("linear", "linear", "dense", {}),
    ("slerp", "slerp", "dense", {}),
    ("dare", "dare", "sparse", {}),
    ("dare(p=0.9)", "dare", "sparse", {"p": 0.9}),
    ("dare(p=0)", "dare", "dense", {"p": 0.0}),
    ("ties(density=0.2)", "ties", "sparse", {"density": 0.2}),
    ("ties(density=1.0)", "ties", "dense", {"density": 1.0}),
    ("EMR", "emr", "dense", {}),
    ("twin(mask_rate=0.8, rank=10)", "twin", "dense", {"mask_rate": 0.8, "rank": 10.0}),
])
def test_method_labels(label, base, family, params):
    assert (method_base(label), method_family(label), method_params(label)) == (base, family, params)


def test_records_to_curves_avg_at_k_tokens_and_parents():
    records = [
        rec(None, 0.0, "q1", 0, False, 10), rec(None, 0.0, "q2", 0, True, 20),
        rec(None, 1.0, "q1", 0, True, 100), rec(None, 1.0, "q2", 0, True, 300),
        # linear@0.5: q1 has 2 samples (1 of 2 correct), q2 one sample (correct)
        rec("linear", 0.5, "q1", 0, True, 50, thought=True),
        rec("linear", 0.5, "q1", 1, False, 70, thought=False),
        rec("linear", 0.5, "q2", 0, True, 90, thought=True),
    ]
    (curve,) = curves_from_records(records)
    assert (curve.pair, curve.method, curve.benchmark, curve.parents_inferred) == ("p", "linear", "b", False)
    (pt,) = curve.points
    assert pt.problem_ids == ("q1", "q2") and pt.correct.shape == (2, 2)
    assert np.isnan(pt.correct[1, 1])
    assert pt.accuracy == pytest.approx((0.5 + 1.0) / 2)  # avg@k: per-problem mean, then mean
    assert pt.mean_tokens == pytest.approx((60 + 90) / 2)
    assert pt.thought_rate == pytest.approx((0.5 + 1.0) / 2)
    assert curve.direct.accuracy == 0.5 and curve.think.mean_tokens == 200
    assert [p.lam for p in curve.series()] == [0.0, 0.5, 1.0]


def test_float_noise_in_lam_is_one_strength():
    records = [rec("linear", 0.1 + 0.2, "q1", 0, True, 1), rec("linear", 0.3, "q2", 0, False, 1)]
    (curve,) = curves_from_records(records)
    assert curve.lams == (0.3,) and curve.points[0].problem_ids == ("q1", "q2")


def test_missing_parents_are_stood_in_by_linear_and_flagged():
    records = [rec(m, lam, "q1", 0, lam > 0.5, int(10 + 100 * lam))
               for m in ("linear", "dare(p=0.9)") for lam in (0.0, 0.5, 1.0)]
    records = [r for r in records if not (r.method == "dare(p=0.9)" and r.lam in (0.0, 1.0))]
    curves = {c.method: c for c in curves_from_records(records)}
    dare = curves["dare(p=0.9)"]
    assert dare.parents_inferred and dare.direct.method == "linear" and dare.direct.lam == 0.0
    assert [p.lam for p in dare.series()] == [0.0, 0.5, 1.0]


def test_rerun_of_same_key_is_deduplicated_but_a_different_config_is_refused():
    r = rec("linear", 0.5, "q1", 0, True, 10)
    (curve,) = curves_from_records([r, r])
    assert curve.points[0].n_samples == 1
    other = rec("linear", 0.5, "q1", 0, False, 10, model="another-config")
    with pytest.raises(ValueError, match="two different evaluations"):
        curves_from_records([r, other])


def test_parent_without_lam_needs_a_role():
    with pytest.raises(ValueError, match="lam=0.0"):
        curves_from_records([rec(None, None, "q1", 0, True, 1)])
    ok = [rec(None, None, "q1", 0, True, 1, meta={"role": "think"}), rec("linear", 0.5, "q1", 0, True, 1)]
    (curve,) = curves_from_records(ok)
    assert curve.think is not None and curve.think.lam == 1.0


CSV = """method,lam,benchmark,accuracy,mean_tokens,n
instruct,,aime,46.6,15097,30
thinking,1,aime,80.4,22813,30
linear,0.5,aime,60.0,{tok},30
linear,0.6,aime,71.0,12681,30
"""


@pytest.mark.parametrize("tok, has_tokens", [("14000", True), ("", False)])
def test_table_percent_parents_and_optional_tokens(tmp_path, tok, has_tokens):
    path = tmp_path / "pub.csv"
    path.write_text(CSV.format(tok=tok))
    (curve,) = curves_from_table(path)
    assert curve.pair == "pub" and curve.method == "linear" and not curve.parents_inferred
    assert curve.direct.accuracy == pytest.approx(0.466) and curve.think.lam == 1.0
    assert [p.lam for p in curve.series()] == [0.0, 0.5, 0.6, 1.0]
    assert curve.points[0].is_aggregate and curve.points[0].n == 30
    assert curve.has_tokens is has_tokens


def test_table_fractions_and_linear_stand_in(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("pair,method,lam,benchmark,accuracy,mean_tokens,n\n"
                    "q,linear,0,g,0.3,10,100\nq,linear,0.5,g,0.5,20,100\nq,linear,1,g,0.9,30,100\n"
                    "q,slerp,0.5,g,0.55,21,100\n")
    curves = {c.method: c for c in curves_from_table(path)}
    assert curves["slerp"].parents_inferred and curves["slerp"].direct.accuracy == pytest.approx(0.3)
    assert curves["linear"].points[-1].accuracy == pytest.approx(0.9)


@pytest.mark.parametrize("body, match", [
    ("method,lam,benchmark,accuracy,n\nlinear,0.5,g,0.5,10\n", "missing column"),
    ("method,lam,benchmark,accuracy,mean_tokens,n\nlinear,0.5,g,abc,,10\n", "accuracy"),
    ("method,lam,benchmark,accuracy,mean_tokens,n\nlinear,1.5,g,0.5,,10\n", "thinking weight"),
    ("method,lam,benchmark,accuracy,mean_tokens,n\nlinear,0.5,g,0.5,,0\n", "whole number"),
    ("method,lam,benchmark,accuracy,mean_tokens,n\nlinear,0.5,g,0.5,,10\nlinear,0.5,g,0.6,,10\n",
     "duplicate row"),
])
def test_table_errors_name_the_line_and_fix(tmp_path, body, match):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=match):
        curves_from_table(path)


def test_bootstrap_weights_are_seeded_counts():
    w = problem_weights("p", "b", 50, 200, 3)
    assert w.shape == (200, 50) and np.all(w.sum(axis=1) == 50)
    assert np.array_equal(w, problem_weights("p", "b", 50, 200, 3))
    assert not np.array_equal(w, problem_weights("p", "b", 50, 200, 4))


def test_paired_bootstrap_identical_points_differ_by_exactly_zero():
    a = synthetic_point("p", "linear", 0.5, "b", accuracy=0.6, tokens=100, n_problems=40)
    b = synthetic_point("p", "slerp", 0.5, "b", accuracy=0.6, tokens=100, n_problems=40)
    rs = resample([a, b], n_boot=300, seed=0)
    assert np.array_equal(rs.acc[:, 0], rs.acc[:, 1]) and rs.acc[:, 0].std() > 0
    # the replicate mean of a point is its per-problem mean re-weighted: same centre
    assert rs.acc[:, 0].mean() == pytest.approx(a.accuracy, abs=0.02)


def test_paired_differences_are_tighter_than_unpaired():
    kw = dict(n_problems=60, k=1)
    hi = synthetic_point("p", "m", 0.6, "b", accuracy=0.55, **kw)
    lo = synthetic_point("p", "m", 0.5, "b", accuracy=0.45, **kw)
    lo_indep = synthetic_point("p", "m", 0.5, "b", accuracy=0.45, coupled=False, **kw)
    paired = resample([hi, lo], n_boot=500, seed=0)
    unpaired = resample([hi, lo_indep], n_boot=500, seed=0)
    assert np.std(paired.acc[:, 0] - paired.acc[:, 1]) < 0.6 * np.std(unpaired.acc[:, 0] - unpaired.acc[:, 1])


def test_aggregate_points_resample_binomially():
    p = Point.aggregate("p", "linear", 0.5, "b", accuracy=0.5, n=100, mean_tokens=1000.0)
    rs = resample([p], n_boot=2000, seed=0)
    assert rs.acc[:, 0].std() == pytest.approx(0.05, rel=0.1)  # sqrt(0.25 / 100)
    assert np.all(rs.tokens[:, 0] == 1000.0)  # no spread information: held fixed
    lo, hi = ci(rs.acc[:, 0])
    assert lo < 0.5 < hi


def test_resample_refuses_mixed_groups():
    a = synthetic_point("p", "m", 0.5, "b1", accuracy=0.5, n_problems=5)
    b = synthetic_point("p", "m", 0.5, "b2", accuracy=0.5, n_problems=5)
    with pytest.raises(ValueError, match="one"):
        resample([a, b], n_boot=100)


def test_simultaneous_band_matches_the_sidak_constant():
    # 10 independent N(0,1) columns: P(max |z| <= c) = 0.95 at c = z_{1-(1-0.95**0.1)/2} = 2.80

    reps = np.random.default_rng(0).normal(size=(20000, 10))
    lo, hi = simultaneous_ci(np.zeros(10), reps, 0.95)
    assert hi == pytest.approx(np.full(10, 2.80), abs=0.06) and lo == pytest.approx(-hi)
    one_lo, one_hi = simultaneous_ci(np.zeros(1), reps[:, :1], 0.95)
    assert one_hi[0] == pytest.approx(1.96, abs=0.05)


def test_simultaneous_band_keeps_exact_and_missing_columns_apart():
    reps = np.stack([np.random.default_rng(1).normal(size=500), np.full(500, 3.0),
                     np.full(500, np.nan)], axis=1)
    lo, hi = simultaneous_ci([0.0, 3.0, np.nan], reps)
    assert lo[1] == hi[1] == 3.0 and np.isnan(lo[2]) and np.isnan(hi[2]) and lo[0] < 0 < hi[0]


@pytest.mark.parametrize("label, sparse", [
    ("ties", False),  # the registry's default density 1.0 trims nothing
    ("ties(density=1)", False), ("ties(density=0.99)", True), ("dare", True), ("dare(p=0)", False),
    ("linear", False), ("twin(mask_rate=0.8)", False),
])
def test_sparse_follows_the_parameters_not_the_name(label, sparse):
    assert is_sparse(label) is sparse
    assert ("sparse_degradation" in {c.claim for c in plan_claims(["p"], ["linear", label], ["b"])}) is sparse
