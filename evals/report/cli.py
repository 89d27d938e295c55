"""`spectrum report RESULTS [--report-dir DIR]`: rebuild a claim report from a results store.

RESULTS is a JSONL results file (one SampleRecord per line) or a folder searched for
*.jsonl. A torn last line (a run killed mid-write) is skipped; a bad line elsewhere is an
error naming the file and line. Prints the verdict table and the report's folder.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evals.analysis.claims import CLAIMS, Thresholds, judge_all
from evals.analysis.table import curves_from_records
from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.report.tables import format_verdict_table
from evals.report.writer import write_report


def read_records(path: str | Path) -> list[SampleRecord]:
    """All records of a JSONL results file, or of every *.jsonl under a folder (sorted);
    a torn last line is skipped, a bad line elsewhere is an error (see ResultsStore)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such results file or folder")
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: folder holds no *.jsonl results files")
    return [r for f in files for r in ResultsStore(f).records()]


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report-dir", default="reports", help="where reports/<run-id>/ goes (default: reports)")
    p.add_argument("--run-id", default=None, help="report folder name (default: a timestamp)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def judge_grouped(curves, th: Thresholds, *, n_boot: int, seed: int, progress: bool | None = None) -> list:
    """`judge_all`, one (pair, benchmark) at a time with a progress bar (shown on a terminal):
    the same verdicts in the same order, and no look-up over every curve per claim."""
    from tqdm import tqdm

    groups: dict[tuple, list] = {}
    for c in curves:
        groups.setdefault((c.pair, c.benchmark), []).append(c)
    verdicts = []
    for group in tqdm(groups.values(), desc="judging", unit="pair/benchmark",
                      disable=None if progress is None else not progress):
        verdicts += judge_all(group, th, n_boot=n_boot, seed=seed)
    order = {c: i for i, c in enumerate(CLAIMS)}
    return sorted(verdicts, key=lambda v: (order[v.claim], v.pair, v.benchmark))


def finish(curves, meta: dict, args) -> int:
    th = Thresholds()
    verdicts = judge_grouped(curves, th, n_boot=args.n_boot, seed=args.seed)
    out = write_report(curves, verdicts, args.report_dir, args.run_id, meta, thresholds=th,
                       n_boot=args.n_boot, seed=args.seed, plots=not args.no_plots)
    print(format_verdict_table(verdicts, note=True, level=th.level))
    print(f"report: {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    records = read_records(args.results)
    if not records:
        raise ValueError(f"{args.results}: no complete records to report on")
    curves = curves_from_records(records)
    if not curves:
        raise ValueError(f"{args.results}: records hold parents only; a report needs merge curves")
    return finish(curves, {"source": str(args.results), "records": len(records)}, args)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("report", help="rebuild a claim report from a results store",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results JSONL file or a folder of them")
    add_common_options(p)
    p.set_defaults(func=run)
