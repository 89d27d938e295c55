"""The token bill of a sweep, before anything runs: expected generated tokens per point and in
total, and GPU-hours at a throughput the user gives; after the run, the actual figures.

    b = token_bill(config, store_records, problem_counts)     # problem_counts: benchmark -> P
    print(format_bill(b, tokens_per_second=2500))

Expected lengths come from the parents' measured mean lengths in the store (per pair and
benchmark) when it holds them, else from a stated prior: the thinking parent writes 58% of
`max_new_tokens`, the direct one 38% (Qwen3-4B-2507 on AIME25 in the paper's setting:
22,813 and 15,097 of 39,512 tokens). A merge at lam is expected at the parents' lengths
interpolated linearly in lam (a stated model: real curves switch at the transition, so the
ceiling, every merge at the thinking parent's length, is printed too).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evals.records import SampleRecord
from evals.sweep.config import SweepConfig
from evals.sweep.plan import iter_points

PRIOR_SHARE = {"direct": 15097 / 39512, "think": 22813 / 39512}
# Problem counts of the hub benchmarks (used when their data is not on this machine)
PUBLISHED_SIZES = {"aime24": 30, "aime25": 30, "hmmt25": 30, "gpqa_diamond": 198}


@dataclass(frozen=True)
class BillRow:
    pair: str
    method: str | None  # None: a parent
    lam: float
    benchmark: str
    samples: int  # problems x samples per problem
    tokens: float  # expected generated tokens of the point
    source: str  # "measured" | "prior"


@dataclass(frozen=True)
class Bill:
    rows: tuple[BillRow, ...]
    ceiling: float  # every merge at the thinking parent's length

    @property
    def total(self) -> float:
        return sum(r.tokens for r in self.rows)

    @property
    def samples(self) -> int:
        return sum(r.samples for r in self.rows)


def parent_lengths(records: Iterable[SampleRecord]) -> dict[tuple[str, str, str], float]:
    """(pair, benchmark, 'direct'|'think') -> mean generated tokens of that parent's records."""
    acc: dict[tuple, list[int]] = defaultdict(list)
    for r in records:
        if r.method is None and r.lam in (0.0, 1.0):
            acc[(r.pair, r.benchmark, "direct" if r.lam == 0.0 else "think")].append(r.generated_tokens)
    return {k: sum(v) / len(v) for k, v in acc.items()}


def token_bill(config: SweepConfig, records: Iterable[SampleRecord], problems: Mapping[str, int]) -> Bill:
    measured = parent_lengths(records)
    rows, ceiling = [], 0.0
    for pair, method, lam in iter_points(config):
        for bench in config.benchmarks:
            params = config.params_for(bench)
            n = problems[bench] * params.n
            lengths, source = {}, "measured"
            for role in ("direct", "think"):
                got = measured.get((pair.name, bench, role))
                if got is None:
                    got, source = PRIOR_SHARE[role] * params.max_new_tokens, "prior"
                lengths[role] = got
            per = lengths["direct"] + lam * (lengths["think"] - lengths["direct"])
            rows.append(BillRow(pair.name, method, lam, bench, n, per * n, source))
            ceiling += (lengths["think"] if method is not None else per) * n
    return Bill(tuple(rows), ceiling)


def _hours(tokens: float, tps: float | None) -> str:
    return f", {tokens / tps / 3600:,.1f} GPU-hours at {tps:,.0f} tokens/s" if tps else ""


def format_bill(bill: Bill, tokens_per_second: float | None = None, per_point: bool = True) -> str:
    lines = []
    if per_point:
        by_point: dict[tuple, list[BillRow]] = defaultdict(list)
        for r in bill.rows:
            by_point[(r.pair, r.method, r.lam)].append(r)
        lines.append(f"  {'point':<36} {'samples':>9} {'expected tokens':>16}  lengths from")
        for (pair, method, lam), rs in by_point.items():
            label = f"{pair}/{method or ('direct' if lam == 0 else 'think')}@{lam:g}"
            src = "measured parents" if all(r.source == "measured" for r in rs) else "prior"
            lines.append(f"  {label:<36} {sum(r.samples for r in rs):>9,} {sum(r.tokens for r in rs):>16,.0f}  {src}")
    points = len({(r.pair, r.method, r.lam) for r in bill.rows})
    lines.append(f"token bill: {points} points, {bill.samples:,} samples, {bill.total:,.0f} expected generated "
                 f"tokens{_hours(bill.total, tokens_per_second)}")
    lines.append(f"  ceiling (every merge at the thinking parent's length): {bill.ceiling:,.0f} tokens"
                 f"{_hours(bill.ceiling, tokens_per_second)}")
    if not tokens_per_second:
        lines.append("  give --tokens-per-second for GPU-hours")
    return "\n".join(lines)


def format_actual(records: Iterable[SampleRecord], new: int, seconds: float, bill: Bill) -> str:
    """The run's actual figures next to the bill: tokens of every record it rests on, tokens
    generated by this run, and the throughput that implies."""
    records = list(records)
    total = sum(r.generated_tokens for r in records)
    rate = f", {new / seconds:,.0f} tokens/s" if seconds > 0 and new else ""
    return (f"actual: {len({(r.pair, r.method, r.lam) for r in records})} points, {len(records):,} samples, "
            f"{total:,} generated tokens ({total / bill.total:.0%} of the bill) of which {new:,} in this run "
            f"({seconds:,.0f} s{rate})" if bill.total else f"actual: {total:,} generated tokens")
