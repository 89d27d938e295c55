"""Numbers per (model, benchmark) from sample records: avg@k, token cost, CIs, paired diffs.

- avg@k: the mean over problems of each problem's mean correctness over its k samples
  (never the first sample alone). Every problem weighs the same, whatever its k.
- tokens: generated tokens per sample, split into reasoning (up to the last `</think>`)
  and answer, averaged per problem then over problems like accuracy.
- truncation / malformed / think rates: shares of samples. Samples whose reasoning/answer
  split is unknown (`split_known` False: no `</think>` in the paper's raw ChatML mode) are
  left out of the reasoning/answer token means and the think rate; when no sample of a
  group has a known split those figures are None ("unknown"), never 0.
- 95% CI: percentile bootstrap over problems, drawn by `evals.analysis.bootstrap` (the same
  replicates, hence the same interval, as the claims report's for that point).
- paired difference of two models on the problems both answered: resample problems once
  and take both models' per-problem means from the same draw (every merge sees the same
  problems, so pairing removes the problem-difficulty variance).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from evals.analysis.bootstrap import ci, problem_weights
from evals.records import SampleRecord

N_BOOT = 1000  # the claims report's default (spectrum report/sweep --n-boot)


@dataclass(frozen=True)
class Summary:
    model: str
    method: str | None
    lam: float | None
    benchmark: str
    prompt_mode: str
    n_problems: int
    n_samples: int
    k_min: int
    k_max: int
    accuracy: float | None  # avg@k; None when nothing was graded (creative writing)
    ci_low: float | None
    ci_high: float | None
    mean_tokens: float
    mean_reasoning_tokens: float | None  # None: the split is unknown for every sample
    mean_answer_tokens: float | None
    truncation_rate: float
    malformed_rate: float
    think_rate: float | None


@dataclass(frozen=True)
class PairedDifference:
    metric: str
    diff: float  # mean over shared problems of (a - b)
    ci_low: float
    ci_high: float
    p_value: float  # two-sided, from the bootstrap distribution of the difference
    n_problems: int

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def is_graded(record: SampleRecord) -> bool:
    """False for a sample whose score comes later (a rubric judge, e.g. creative writing):
    its `correct` is a placeholder, not a zero (the runner sets meta["graded"])."""
    return record.meta.get("graded", True)


def per_problem(records: Iterable[SampleRecord], metric: str = "accuracy") -> dict[str, float]:
    """problem_id -> mean over its samples of the metric ("accuracy", "tokens",
    "reasoning_tokens", "answer_tokens", "truncated", "malformed")."""
    getters = {
        "accuracy": lambda r: float(r.correct),
        "tokens": lambda r: float(r.generated_tokens),
        "reasoning_tokens": lambda r: float(r.reasoning_tokens),
        "answer_tokens": lambda r: float(r.answer_tokens),
        "truncated": lambda r: float(r.truncated),
        "malformed": lambda r: float(r.malformed),
    }
    if metric not in getters:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(getters)}")
    values: dict[str, list[float]] = defaultdict(list)
    for r in records:
        values[r.problem_id].append(getters[metric](r))
    return {pid: float(np.mean(v)) for pid, v in values.items()}


def avg_at_k(records: Sequence[SampleRecord]) -> float:
    pp = per_problem(records, "accuracy")
    if not pp:
        raise ValueError("avg_at_k: no records")
    return float(np.mean(list(pp.values())))


def bootstrap_ci(values: Sequence[float], *, n_boot: int = N_BOOT, seed: int = 0, level: float = 0.95,
                 pair: str = "", benchmark: str = "") -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of per-problem values (in sorted problem-id order),
    with the replicates `evals.analysis.bootstrap` draws for (pair, benchmark)."""
    v = np.asarray(values, dtype=np.float64)  # (n_problems,)
    if v.size == 0:
        raise ValueError("bootstrap_ci: no values")
    w = problem_weights(pair, benchmark, v.size, n_boot, seed)  # (n_boot, n) counts, rows sum to n
    return ci(w @ v / v.size, level)


def _group_key(r: SampleRecord) -> tuple:
    return (r.model, r.method, r.lam, r.benchmark, r.benchmark_version, r.prompt_mode,
            json.dumps(r.sampling, sort_keys=True))


def summarize_group(records: Sequence[SampleRecord], *, n_boot: int = N_BOOT, seed: int = 0) -> Summary:
    first = records[0]
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[r.problem_id] += 1
    graded = all(is_graded(r) for r in records)
    acc = lo = hi = None
    if graded:
        by_id = per_problem(records, "accuracy")
        pp = [by_id[pid] for pid in sorted(by_id)]
        acc = float(np.mean(pp))
        lo, hi = bootstrap_ci(pp, n_boot=n_boot, seed=seed, pair=first.pair, benchmark=first.benchmark)

    def mean_of(metric: str, rs: Sequence[SampleRecord] = records) -> float | None:
        return float(np.mean(list(per_problem(rs, metric).values()))) if rs else None

    n = len(records)
    known = [r for r in records if r.split_known]
    return Summary(
        model=first.model, method=first.method, lam=first.lam, benchmark=first.benchmark,
        prompt_mode=first.prompt_mode, n_problems=len(counts), n_samples=n,
        k_min=min(counts.values()), k_max=max(counts.values()), accuracy=acc, ci_low=lo, ci_high=hi,
        mean_tokens=mean_of("tokens"), mean_reasoning_tokens=mean_of("reasoning_tokens", known),
        mean_answer_tokens=mean_of("answer_tokens", known),
        truncation_rate=sum(r.truncated for r in records) / n,
        malformed_rate=sum(r.malformed for r in records) / n,
        think_rate=sum(bool(r.meta.get("thought")) for r in known) / len(known) if known else None,
    )


def summarize(records: Iterable[SampleRecord], *, n_boot: int = N_BOOT, seed: int = 0) -> list[Summary]:
    """One Summary per (model, method, lam, benchmark, version, prompt mode, sampling)."""
    groups: dict[tuple, list[SampleRecord]] = defaultdict(list)
    for r in records:
        groups[_group_key(r)].append(r)
    return [summarize_group(g, n_boot=n_boot, seed=seed) for g in groups.values()]


def _or_unknown(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.1f}"


def summary_table(records: Iterable[SampleRecord], *, n_boot: int = N_BOOT, seed: int = 0, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    rows = []
    for s in summarize(records, n_boot=n_boot, seed=seed):
        acc = "-" if s.accuracy is None else f"{100 * s.accuracy:.1f} [{100 * s.ci_low:.1f}, {100 * s.ci_high:.1f}]"
        k = str(s.k_min) if s.k_min == s.k_max else f"{s.k_min}-{s.k_max}"
        rows.append([s.model, s.method or "-", "-" if s.lam is None else f"{s.lam:g}", s.benchmark, s.n_problems, k,
                     acc, f"{s.mean_tokens:.1f}", _or_unknown(s.mean_reasoning_tokens), _or_unknown(s.mean_answer_tokens),
                     f"{100 * s.truncation_rate:.1f}", f"{100 * s.malformed_rate:.1f}",
                     _or_unknown(None if s.think_rate is None else 100 * s.think_rate)])
    headers = ["model", "method", "lam", "benchmark", "problems", "k", "avg@k % [95% CI]", "tokens",
               "reasoning", "answer", "trunc %", "malformed %", "thinks %"]
    return tabulate(rows, headers=headers, tablefmt=tablefmt)


def paired_difference(a: Sequence[SampleRecord], b: Sequence[SampleRecord], *, metric: str = "accuracy",
                      n_boot: int = N_BOOT, seed: int = 0, level: float = 0.95) -> PairedDifference:
    """Difference a - b of a per-problem metric on the problems both record sets share."""
    pa, pb = per_problem(a, metric), per_problem(b, metric)
    shared = sorted(set(pa) & set(pb))
    if not shared:
        raise ValueError("paired_difference: the two record sets share no problem; evaluate both on the same problems")
    d = np.array([pa[p] - pb[p] for p in shared])  # (n_shared,)
    idx = np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)  # (n_boot,)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    p = min(1.0, 2.0 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return PairedDifference(metric=metric, diff=float(d.mean()), ci_low=float(lo), ci_high=float(hi),
                            p_value=p, n_problems=d.size)
