"""Build curves from per-sample records or from an outside table.

`curves_from_records(records)`: records with method None are the parents (lam 0.0 =
direct, lam 1.0 = thinking; a record with lam None may name its role in
meta['role']). Every other method becomes one Curve per (pair, benchmark).

`curves_from_table(csv_path)`: columns method,lam,benchmark,accuracy,mean_tokens,n
(optional pair; else the file's stem). Conventions:
  * accuracy: fractions in [0, 1]; if ANY accuracy exceeds 1 the whole table is read as
    percent and divided by 100. A table that mixes the two (values above 1 next to
    values in (0, 1], e.g. parents in percent and merges as fractions) is refused, naming
    the rows: dividing everything by 100 would report a false collapse. (A percent table
    whose every value is <= 1% would be misread -- write fractions to be explicit.)
  * mean_tokens may be empty: then only the accuracy claims can be judged.
  * n: the number of problems behind the accuracy (the binomial resampling draws n
    Bernoulli trials; give problems, not problems x samples, or the CIs come out too
    narrow).
  * parents: rows whose method is direct/instruct (lam 0) or think/thinking (lam 1).

In both, when a (pair, benchmark) has no parent rows, the lam 0/1 points of the
'linear' curve (else of each curve itself) stand in and the curve is flagged
`parents_inferred`; never a scheduled curve's lam 1 (`linear[sched:..]` at lam 1 merges at
the schedule's strengths, not the thinking parent's).
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np
from tqdm import tqdm

from evals.analysis.points import Curve, Point
from evals.method_labels import method_base, method_family, method_variant
from evals.records import SampleRecord

__all__ = ["Curve", "Point", "curves_from_records", "curves_from_table", "method_family"]

DIRECT_NAMES = ("direct", "instruct")
THINK_NAMES = ("think", "thinking")
TABLE_COLUMNS = ("method", "lam", "benchmark", "accuracy", "mean_tokens", "n")


def _scheduled(label: str) -> bool:
    """Whether `label` merges by a strength schedule (its lam 1 is the schedule, not thinking)."""
    try:
        return method_variant(label).schedule is not None
    except ValueError:  # an outside table's label with tags of its own: not ours to read
        return False


def _assemble(points: list[Point]) -> list[Curve]:
    """Group points into curves and attach parents (or flagged stand-ins)."""
    groups: dict[tuple[str, str], list[Point]] = defaultdict(list)
    for p in points:
        groups[(p.pair, p.benchmark)].append(p)
    curves = []
    for (pair, bench), pts in sorted(groups.items()):
        parents = {p.lam: p for p in pts if p.method is None}
        by_method: dict[str, list[Point]] = defaultdict(list)
        for p in pts:
            if p.method is not None:
                by_method[p.method].append(p)
        # the plain linear curve: its lam 0/1 ARE the parents (a scheduled linear's lam 1 is not)
        linear = next((m for m in sorted(by_method) if method_base(m) == "linear" and not _scheduled(m)), None)

        def stand_in(method: str, lam: float) -> Point | None:
            for source in (linear, None if lam == 1.0 and _scheduled(method) else method):
                hit = [p for p in by_method.get(source, []) if p.lam == lam] if source else []
                if hit:
                    return hit[0]
            return None

        for method in sorted(by_method):
            direct, think = parents.get(0.0), parents.get(1.0)
            inferred = False
            if direct is None:
                direct = stand_in(method, 0.0)
                inferred |= direct is not None
            if think is None:
                think = stand_in(method, 1.0)
                inferred |= think is not None
            curves.append(Curve(pair, method, bench, tuple(by_method[method]), direct, think,
                                parents_inferred=inferred))
    return curves


def _parent_lam(r: SampleRecord) -> float:
    if r.lam is not None:
        lam = float(r.lam)
    else:
        role = str(r.meta.get("role", "")).lower()
        lam = 0.0 if role in DIRECT_NAMES else 1.0 if role in THINK_NAMES else math.nan
    if lam not in (0.0, 1.0):
        raise ValueError(f"record of model {r.model!r} ({r.benchmark}, problem {r.problem_id}) "
                         f"has method None but lam {r.lam!r}: a parent checkpoint needs lam=0.0 "
                         "(direct) or lam=1.0 (thinking), or meta['role'] 'direct'/'think'")
    return lam


# What makes two records of one (pair, method, lam, benchmark, problem, sample) different runs.
_IDENTITY = ("model_fingerprint", "benchmark_version", "prompt_mode", "sampling", "seed",
             "backend", "dtype", "tokenizer_hash", "prompt_hash", "problem_hash")


def _models(a: SampleRecord, b: SampleRecord) -> str:
    return f"model {a.model!r} both times" if a.model == b.model else f"models {a.model!r} and {b.model!r}"


def _differences(a: SampleRecord, b: SampleRecord) -> str:
    """'benchmark_version (1 vs 2)': the identity fields that differ, with both values."""
    diff = [f"{f} ({getattr(a, f, None)!r} vs {getattr(b, f, None)!r})" for f in _IDENTITY
            if getattr(a, f, None) != getattr(b, f, None)]
    return ", ".join(diff) or "their identity"


def curves_from_records(records: Iterable[SampleRecord]) -> list[Curve]:
    """One Curve per (pair, benchmark, method); see the module docstring for parents."""
    cells: dict[tuple, dict[tuple, SampleRecord]] = defaultdict(dict)
    for r in records:
        if r.method is None:
            lam = _parent_lam(r)
        elif r.lam is None:
            raise ValueError(f"record of model {r.model!r} has method {r.method!r} but lam None; "
                             "every merge record needs its thinking weight lam")
        else:
            lam = round(float(r.lam), 6)  # 0.30000000000000004 and 0.3 are one strength
        sample = (r.problem_id, r.sample_index)
        cell = cells[(r.pair, r.method, lam, r.benchmark)]
        old = cell.get(sample)
        if old is not None and old.key() != r.key():
            raise ValueError(f"two different evaluations of {r.pair}/{r.method}@{lam:g}/"
                             f"{r.benchmark} problem {r.problem_id} sample {r.sample_index} "
                             f"({_models(old, r)}) differ in {_differences(old, r)}; "
                             "keep one evaluation per sample in a results store")
        cell[sample] = r  # a rerun of the same key replaces the earlier line
    points = []
    for (pair, method, lam, bench), cell in cells.items():
        by_problem: dict[str, list[SampleRecord]] = defaultdict(list)
        for (pid, _), r in sorted(cell.items(), key=lambda kv: kv[0][1]):
            by_problem[pid].append(r)
        ids = tuple(sorted(by_problem))
        k = max(len(v) for v in by_problem.values())
        mats = {n: np.full((len(ids), k), np.nan) for n in
                ("correct", "tokens", "truncated", "malformed", "thought")}
        for i, pid in enumerate(ids):
            for j, r in enumerate(by_problem[pid]):
                mats["correct"][i, j] = float(r.correct)
                mats["tokens"][i, j] = float(r.generated_tokens)
                mats["truncated"][i, j] = float(r.truncated)
                mats["malformed"][i, j] = float(r.malformed)
                thought = r.meta.get("thought")
                if thought is not None:
                    mats["thought"][i, j] = float(bool(thought))
        points.append(Point(pair, method, lam, bench, ids, **mats))
    return _assemble(points)


def _read_float(raw: str, where: str, column: str, empty_ok: bool = False) -> float | None:
    raw = (raw or "").strip()
    if raw == "" and empty_ok:
        return None
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"{where}: column {column!r} must be a number, got {raw!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{where}: column {column!r} must be finite, got {raw!r}")
    return v


def check_one_unit(path: Path, rows: list[tuple[str, float]]) -> None:
    """Refuse a percent table (some accuracy > 1) that also holds fractions (0 < acc <= 1)."""
    pct = [where for where, acc in rows if acc > 1.0]
    frac = [where for where, acc in rows if 0.0 < acc <= 1.0]
    if pct and frac:
        more = f" and {len(frac) - 5} more" if len(frac) > 5 else ""
        raise ValueError(
            f"{path}: accuracies mix percent and fractions: {', '.join(frac[:5])}{more} look like fractions "
            f"(<= 1) while {pct[0]} and {len(pct) - 1} other(s) are percent (> 1); write every accuracy "
            "in one unit (fractions throughout if some really are below 1%)")


def curves_from_table(csv_path: str | Path, pair: str | None = None) -> list[Curve]:
    """Curves from an outside table (module docstring: columns, percent, parents)."""
    path = Path(csv_path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in TABLE_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; expected a header "
                             f"{','.join(TABLE_COLUMNS)} (optional: pair)")
        rows = [({k.strip(): v for k, v in row.items() if k is not None}, i + 2)
                for i, row in enumerate(reader)]
    if not rows:
        raise ValueError(f"{path}: no data rows")
    parsed = []
    # a bar on a terminal only: 50,000 rows take several seconds
    for row, line in tqdm(rows, desc="reading table", unit="row", disable=None, leave=False):
        where = f"{path}:{line}"
        method = (row["method"] or "").strip()
        bench = (row["benchmark"] or "").strip()
        if not method or not bench:
            raise ValueError(f"{where}: method and benchmark must not be empty")
        lam = _read_float(row["lam"], where, "lam", empty_ok=method.lower() in DIRECT_NAMES + THINK_NAMES)
        acc = _read_float(row["accuracy"], where, "accuracy")
        tok = _read_float(row["mean_tokens"], where, "mean_tokens", empty_ok=True)
        n = _read_float(row["n"], where, "n")
        if n < 1 or n != int(n):
            raise ValueError(f"{where}: n must be a whole number of problems >= 1, got {n:g}")
        if not 0.0 <= acc <= 100.0:
            raise ValueError(f"{where}: accuracy {acc:g} is neither a fraction nor a percent")
        if lam is not None and not 0.0 <= lam <= 1.0:
            raise ValueError(f"{where}: lam {lam:g} outside [0, 1]; lam is the thinking weight")
        lam = None if lam is None else round(lam, 6)
        row_pair = (row.get("pair") or "").strip() or pair or path.stem
        parsed.append((where, row_pair, method, lam, bench, acc, tok, int(n)))
    scale = 100.0 if any(acc > 1.0 for *_, acc, _, _ in parsed) else 1.0
    if scale == 100.0:
        check_one_unit(path, [(where, acc) for where, *_, acc, _, _ in parsed])
    points, seen = [], {}
    for where, row_pair, method, lam, bench, acc, tok, n in parsed:
        if method.lower() in DIRECT_NAMES + THINK_NAMES:
            method, lam = None, 0.0 if method.lower() in DIRECT_NAMES else 1.0
        key = (row_pair, method, lam, bench)
        if key in seen:
            raise ValueError(f"{where}: duplicate row for method {method or 'parent'}, lam {lam:g}, "
                             f"benchmark {bench} (first at {seen[key]})")
        seen[key] = where
        points.append(Point.aggregate(row_pair, method, lam, bench, accuracy=acc / scale, n=n,
                                      mean_tokens=tok))
    return _assemble(points)
