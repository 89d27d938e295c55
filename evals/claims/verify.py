"""Judge the curves and write the claims report: the one path `spectrum sweep`, `spectrum
report`, `spectrum analyze` and the pytest claim suite share.

    curves = judged_curves(records)          # only graded samples: judged-later ones wait
    verdicts, folder, th = judge_and_report(curves, {"source": "..."}, report_dir="reports")

`verdicts` given (the claim suite judges case by case while its tests run): only the report
is written, with those verdicts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from evals.analysis.bootstrap import one_blas_thread
from evals.analysis.points import Curve
from evals.analysis.table import curves_from_records
from evals.analysis.workers import usable_cpus
from evals.claims.catalog import judge_groups, sort_verdicts
from evals.claims.verdicts import Thresholds, Verdict
from evals.metrics import is_graded
from evals.records import SampleRecord
from evals.report.writer import curve_summary, write_report


def judged_curves(records: Sequence[SampleRecord]) -> list[Curve]:
    """Curves of the graded samples only; a benchmark judged later is left out rather than
    analysed as all-zero accuracy."""
    return curves_from_records([r for r in records if is_graded(r)])


def judge_and_report(curves: Sequence[Curve], meta: Mapping, *, report_dir: str | Path = "reports",
                     run_id: str | None = None, movement: Mapping | None = None, n_boot: int = 1000,
                     bootstrap_seed: int = 0, plots: bool = True,
                     verdicts: Sequence[Verdict] | None = None,
                     known: Mapping[tuple, str] | None = None,
                     workers: int | None = None) -> tuple[list[Verdict], Path, Thresholds]:
    """(verdicts, report folder, thresholds used). Thresholds are always the declared ones;
    `known` ({(claim, pair, method, benchmark): reason}) marks known findings in the report.
    `workers`: processes judging (pair, benchmark) groups (None: every usable CPU); each
    group's per-curve report tables are made right after its verdicts, from the same
    cached bootstrap draws."""
    th = Thresholds()
    curves = list(curves)
    summaries = None
    with one_blas_thread():
        if verdicts is None:
            rows = lambda group: [curve_summary(c, th, n_boot=n_boot, seed=bootstrap_seed) for c in group]
            judged = judge_groups(curves, th, movement=movement, n_boot=n_boot, seed=bootstrap_seed,
                                  workers=usable_cpus() if workers is None else workers, after=rows)
            verdicts = sort_verdicts(v for _, vs, _ in judged for v in vs)
            summaries = {id(c): r for group, _, made in judged for c, r in zip(group, made)}
        verdicts = list(verdicts)
        out = write_report(curves, verdicts, report_dir, run_id, meta, thresholds=th, n_boot=n_boot,
                           seed=bootstrap_seed, plots=plots, known=known, summaries=summaries)
    return verdicts, out, th
