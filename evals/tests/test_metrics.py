"""avg@k, token means, rates, bootstrap CIs and paired differences against hand computations."""
import math
from dataclasses import replace

import numpy as np
import pytest

from evals.analysis.summary import summarize_curve
from evals.analysis.table import curves_from_records
from evals.metrics import avg_at_k, bootstrap_ci, paired_difference, summarize, summary_table
from evals.tests.records_factory import make_record as R

pytestmark = pytest.mark.fast


def test_avg_at_k_weighs_problems_not_samples():
    recs = [R("p1", 0, correct=True), R("p1", 1, correct=False), R("p1", 2, correct=True), R("p1", 3, correct=True),
            R("p2", 0, correct=False), R("p2", 1, correct=False)]
    # p1: 3/4, p2: 0/2 -> (0.75 + 0) / 2; a per-sample mean would say 3/6
    assert avg_at_k(recs) == pytest.approx(0.375)


def test_first_sample_is_not_the_accuracy():
    recs = [R("p1", 0, correct=True), R("p1", 1, correct=False), R("p1", 2, correct=False), R("p1", 3, correct=False)]
    assert avg_at_k(recs) == pytest.approx(0.25)


def test_summary_fields_by_hand():
    recs = [R("p1", 0, tokens=10, reasoning=6, thought=True), R("p1", 1, tokens=20, reasoning=20, truncated=True, correct=False),
            R("p2", 0, tokens=4, reasoning=0, malformed=True, correct=False), R("p2", 1, tokens=6, reasoning=0)]
    (s,) = summarize(recs, n_boot=200)
    assert (s.n_problems, s.n_samples, s.k_min, s.k_max) == (2, 4, 2, 2)
    assert s.accuracy == pytest.approx((0.5 + 0.5) / 2)
    assert s.mean_tokens == pytest.approx((15 + 5) / 2)
    assert s.mean_reasoning_tokens == pytest.approx((13 + 0) / 2)
    assert s.mean_answer_tokens == pytest.approx((2 + 5) / 2)
    assert (s.truncation_rate, s.malformed_rate, s.think_rate) == (0.25, 0.25, 0.25)
    assert "avg@k" in summary_table(recs, n_boot=50)


def test_groups_split_by_model_and_lam():
    recs = [R("p1", model="a", lam=0.0), R("p1", model="a", lam=1.0), R("p1", model="b", lam=0.0)]
    assert len(summarize(recs, n_boot=10)) == 3


@pytest.mark.parametrize("values, expect", [([0.7] * 9, (0.7, 0.7)), ([0.0, 1.0], (0.0, 1.0))])
def test_bootstrap_ci_degenerate_cases(values, expect):
    # two values: means are 0, .5, 1 with prob 1/4, 1/2, 1/4, so the 2.5%/97.5% quantiles are 0 and 1
    assert bootstrap_ci(values, n_boot=4000, seed=1) == pytest.approx(expect)


def test_bootstrap_ci_matches_normal_approximation():
    vals = [1.0] * 15 + [0.0] * 15  # p = 0.5, n = 30: half-width 1.96 * sqrt(.25/30) = 0.179
    lo, hi = bootstrap_ci(vals, n_boot=4000, seed=0)
    half = 1.96 * math.sqrt(0.25 / 30)
    assert lo == pytest.approx(0.5 - half, abs=0.03) and hi == pytest.approx(0.5 + half, abs=0.03)


def test_bootstrap_is_seeded():
    vals = list(np.random.default_rng(3).random(25))
    assert bootstrap_ci(vals, seed=5) == bootstrap_ci(vals, seed=5)
    assert bootstrap_ci(vals, seed=5) != bootstrap_ci(vals, seed=6)


def test_paired_difference_by_hand():
    a = [R(f"p{i}", correct=i < 8, tokens=100) for i in range(10)]
    b = [R(f"p{i}", correct=i < 5, tokens=60) for i in range(10)] + [R("extra", correct=True)]
    acc = paired_difference(a, b, n_boot=2000)
    assert acc.n_problems == 10 and acc.diff == pytest.approx(0.3)
    # per-problem differences are 0.3 ones and 0.7 zeros: CI of a mean of Bernoulli(0.3) draws
    assert 0.0 <= acc.ci_low < 0.3 < acc.ci_high <= 0.65
    tok = paired_difference(a, b, metric="tokens", n_boot=500)
    assert (tok.diff, tok.ci_low, tok.ci_high) == (40.0, 40.0, 40.0) and tok.significant and tok.p_value == 0.0


def test_paired_difference_identical_is_null():
    a = [R(f"p{i}", correct=i % 2 == 0) for i in range(10)]
    d = paired_difference(a, a, n_boot=300)
    assert (d.diff, d.ci_low, d.ci_high, d.p_value, d.significant) == (0.0, 0.0, 0.0, 1.0, False)


def test_paired_difference_needs_shared_problems():
    with pytest.raises(ValueError, match="share no problem"):
        paired_difference([R("x")], [R("y")])


@pytest.mark.parametrize("seed", [3, 7])
def test_eval_summary_ci_is_the_claims_reports_interval(seed):
    """`spectrum eval` prints the interval the report's point table shows for the same point:
    one bootstrap (same replicates for the pair and benchmark), not two that disagree."""
    rng = np.random.default_rng(seed)
    recs = []
    for method, lam in ((None, 0.0), (None, 1.0), ("linear", 0.5)):
        for p in range(30):
            for i in range(1 + p % 5):  # k = 1..5: per-problem means off a common grid
                r = R(f"q{p:02d}", i, correct=bool(rng.random() < 0.5), tokens=int(rng.integers(5, 50)),
                      model=f"{method}@{lam}", lam=lam, fingerprint=f"{method}{lam}")
                recs.append(replace(r, method=method))
    merge = [r for r in recs if r.method == "linear"]
    (s,) = summarize(merge, seed=seed)
    (curve,) = curves_from_records(recs)
    row = next(r for r in summarize_curve(curve, seed=seed) if r["lam"] == 0.5 and r["role"] == "merge")
    assert row["accuracy"] == pytest.approx(s.accuracy)
    assert (s.ci_low, s.ci_high) == pytest.approx(tuple(row["accuracy_ci"]))
    assert s.ci_low < s.accuracy < s.ci_high
