"""Analyzers on constructed curves with known answers (hand computations in comments)."""
from __future__ import annotations

import numpy as np
import pytest

from evals.analysis.agreement import compare_curves
from evals.analysis.bootstrap import resample
from evals.analysis.collapse import analyze_collapse
from evals.analysis.pareto import dominance, hypervolume, hypervolume_many, pareto_front
from evals.analysis.points import Point
from evals.analysis.routing import routing_gain
from evals.analysis.smoothness import analyze_smoothness, spearman, spearman_many
from evals.analysis.sparse import compare_sparse
from evals.analysis.synthetic import synthetic_curve
from evals.analysis.transition import WIDTH_PER_W, analyze_transition, fit_logistic

pytestmark = pytest.mark.fast

LAMS = [round(0.1 * i, 1) for i in range(11)]
TOKENS = [1000 + 9000 * x for x in LAMS]
B = 300


def step_curve(at=0.65, lo=0.3, hi=0.8, **kw):
    kw.setdefault("coupled", False)
    return synthetic_curve("linear", LAMS, [lo if x < at else hi for x in LAMS], TOKENS, **kw)


def test_logistic_recovers_known_parameters():
    lam = np.linspace(0, 1, 21)
    acc = 0.2 + 0.7 / (1 + np.exp(-(lam - 0.42) / 0.08))
    f = fit_logistic(lam, acc)
    assert f.c == pytest.approx(0.42, abs=0.003)
    assert f.w == pytest.approx(0.08, rel=0.12)  # the w grid steps by 22%
    assert (f.lo, f.hi) == pytest.approx((0.2, 0.9), abs=0.01)
    assert f.width == pytest.approx(4.394 * f.w, rel=1e-3) and WIDTH_PER_W == pytest.approx(4.3944, abs=1e-4)
    assert f.delta_aicc > 10  # far better than a straight line


def test_clean_step_centre_is_the_middle_of_the_gap():
    f = fit_logistic(LAMS, [0.3 if x < 0.65 else 0.8 for x in LAMS])
    assert f.c == pytest.approx(0.65, abs=1e-9) and f.width < 0.1 and f.sse < 1e-12


@pytest.mark.parametrize("seed", [0, 1])
def test_step_at_065_is_found_at_065_within_ci(seed):
    t = analyze_transition(step_curve(n_problems=30, k=10, seed=seed), n_boot=B, seed=seed)
    lo, hi = t.centre_ci
    assert lo <= 0.65 <= hi and hi - lo <= 0.15
    assert t.fit.c == pytest.approx(0.65, abs=0.05)
    assert t.jump_lams == (0.6, 0.7) and t.share > 0.7
    assert t.change_significant and t.fit.width < 0.2


def test_flat_curve_has_no_significant_change():
    t = analyze_transition(synthetic_curve("linear", LAMS, [0.5] * 11, coupled=False, n_problems=100),
                           n_boot=B)
    assert not t.change_significant


def test_straight_line_is_wide_and_not_better_than_a_line():
    t = analyze_transition(synthetic_curve("linear", LAMS, [0.3 + 0.5 * x for x in LAMS],
                                           n_problems=300), n_boot=B)
    assert t.fit.width > 1.0 and t.width_ci[0] > 0.2
    assert t.fit.delta_aicc < 2


@pytest.mark.parametrize("x, y, rho", [
    ([1, 2, 3], [10, 20, 30], 1.0),
    ([1, 2, 3], [30, 20, 10], -1.0),
    ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),  # 1 - 6*(1+1)/(4*15)
    ([1, 2, 3, 4, 5], [5, 6, 7, 8, 7], 8 / np.sqrt(95)),  # ties: Pearson on ranks [1,2,3.5,5,3.5]
])
def test_spearman_hand_computed(x, y, rho):
    assert spearman(x, y) == pytest.approx(rho)
    assert spearman_many(x, np.array([y, y]))[1] == pytest.approx(rho)


def test_spearman_of_constant_tokens_is_nan():
    assert np.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_smoothness_finds_the_jump_outside_the_window_only():
    acc = [0.3, 0.3, 0.3, 0.6, 0.6, 0.6, 0.6, 0.9, 0.9, 0.9, 0.9]  # jumps at 0.2->0.3 and 0.6->0.7
    c = synthetic_curve("linear", LAMS, acc, TOKENS[::-1])
    s = analyze_smoothness(c, window=(0.62, 0.68), n_boot=B)
    assert s.excluded == ((0.6, 0.7),) and s.checked == 9
    assert s.jump_lams == (0.2, 0.3) and s.jump == pytest.approx(0.3, abs=0.05)
    assert s.jump_ci[0] > 0.2
    assert s.spearman == pytest.approx(-1.0)


@pytest.mark.parametrize("acc, tok, front", [
    ([0.5, 0.7, 0.9], [100, 200, 400], [True, True, True]),
    ([0.5, 0.4, 0.9], [100, 300, 400], [True, False, True]),  # (0.4, 300) dominated by (0.5, 100)
    ([0.5, 0.5, 0.9], [100, 100, 400], [True, True, True]),  # exact ties dominate nobody
    ([0.5, 0.6, 0.9], [100, 100, 400], [False, True, True]),  # same cost, more accurate
])
def test_pareto_front(acc, tok, front):
    assert pareto_front(acc, tok).tolist() == front


def test_hypervolume_hand_computed():
    # staircase to ref 400: 0.5*(200-100) + 0.7*(400-200) + 0.9*0 = 190; /(1*400) = 0.475
    assert hypervolume([0.5, 0.7, 0.9], [100, 200, 400], 400) == pytest.approx(0.475)
    # a dominated point adds nothing; order does not matter
    assert hypervolume([0.4, 0.9, 0.5, 0.7], [300, 400, 100, 200], 400) == pytest.approx(0.475)
    assert hypervolume([1.0], [0.0], 100) == pytest.approx(1.0)
    many = hypervolume_many(np.array([[0.5, 0.7], [0.7, 0.5]]), np.array([[100, 200], [100, 200]]), 400)
    assert many.tolist() == pytest.approx([(0.5 * 100 + 0.7 * 200) / 400, 0.7 * 300 / 400])


def _pool(*specs):
    pts = [Point.aggregate("p", m, lam, "b", accuracy=a, n=10_000, mean_tokens=t) for m, lam, a, t in specs]
    return resample(pts, n_boot=B, seed=0)


def test_dominance_clear_dominator_and_dominated_point():
    rs = _pool(("linear", 0.6, 0.80, 5000), (None, 1.0, 0.70, 9000), ("linear", 0.3, 0.60, 9500))
    win = dominance(rs, 0, 1)
    assert win.dominates and win.d_acc == pytest.approx(0.10) and win.d_tokens == pytest.approx(-4000)
    lose = dominance(rs, 2, 1)
    assert not lose.favourable and not lose.dominates


def test_dominance_needs_significance():
    # +0.5 pts on 10k problems is noise-level but tokens are (table-)exact: dominates;
    # with more tokens it is not favourable at all
    rs = _pool(("linear", 0.6, 0.705, 8000), (None, 1.0, 0.70, 9000), ("linear", 0.7, 0.705, 9100))
    assert dominance(rs, 0, 1).dominates
    assert not dominance(rs, 2, 1).favourable


def test_routing_gain_hand_computed():
    # q = (2000-1000)/(3000-1000) = 0.5; coin accuracy 0.5*0.4 + 0.5*0.8 = 0.6; gain 0.1
    rs = _pool(("linear", 0.5, 0.70, 2000), (None, 0.0, 0.40, 1000), (None, 1.0, 0.80, 3000))
    g = routing_gain(rs, 0, 1, 2)
    assert (g.gain, g.q, g.clipped) == (pytest.approx(0.1), pytest.approx(0.5), False)
    assert g.gain_ci[0] > 0.08
    # a merge cheaper than direct is compared with direct itself
    rs = _pool(("linear", 0.5, 0.45, 500), (None, 0.0, 0.40, 1000), (None, 1.0, 0.80, 3000))
    g = routing_gain(rs, 0, 1, 2)
    assert g.clipped and g.q == 0 and g.gain == pytest.approx(0.05)


def test_collapse_flags_malformed_and_dips_below_both_parents():
    acc = [0.3, 0.3, 0.3, 0.1, 0.05, 0.1, 0.3, 0.8, 0.8, 0.8, 0.8]
    mal = [0, 0, 0, 0.1, 0.5, 0.1, 0, 0, 0, 0, 0]
    health = {h.lam: h for h in analyze_collapse(synthetic_curve("linear", LAMS, acc, TOKENS, malformed=mal),
                                                 n_boot=B)}
    assert sorted(health) == LAMS[1:-1]
    assert health[0.4].significant_dip and health[0.4].dip == pytest.approx(-0.25, abs=0.04)
    assert health[0.4].malformed == pytest.approx(0.5, abs=0.07)
    assert not health[0.2].significant_dip and not health[0.8].significant_dip


def test_sparse_degradation_on_degraded_and_identical_curves():
    good = [0.3 if x < 0.65 else 0.8 for x in LAMS]
    bad = [0.3 if x < 0.65 else 0.55 for x in LAMS]
    linear = synthetic_curve("linear", LAMS, good, TOKENS)
    degraded = compare_sparse(synthetic_curve("dare(p=0.9)", LAMS, bad, TOKENS), linear, n_boot=B)
    assert degraded.d_acc_ci[1] < 0 and degraded.d_hv_ci[1] < 0 and degraded.hv_sparse < degraded.hv_linear
    same = compare_sparse(synthetic_curve("ties(density=0.2)", LAMS, good, TOKENS), linear, n_boot=B)
    assert same.d_acc == 0 and same.d_acc_ci == (0.0, 0.0) and same.d_hv == pytest.approx(0.0)
    assert same.lams == tuple(LAMS[1:-1])


def test_agreement_mean_absolute_difference():
    a = synthetic_curve("linear", LAMS, [0.5] * 11, n_problems=1000)
    b = synthetic_curve("slerp", LAMS, [0.5 + (0.1 if i % 2 else -0.1) for i in range(11)], n_problems=1000)
    agr = compare_curves(a, b, n_boot=B)
    # exact targets: MAD 0.1, mean difference (5*0.1 - 4*0.1)/9; 1000 problems add ~1 pt noise
    assert agr.mad == pytest.approx(0.1, abs=0.015) and agr.mean_diff == pytest.approx(0.1 / 9, abs=0.03)
    assert agr.mad_ci[0] > 0.08
