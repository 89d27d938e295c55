"""`spectrum report RESULTS [--report-dir DIR]`: rebuild a claim report from a results store.

RESULTS is a JSONL results file (one SampleRecord per line) or a folder searched for
*.jsonl. A torn last line (a run killed mid-write) is skipped; a bad line elsewhere is an
error naming the file and line. Prints the verdict table and the report's folder. The
settings list the paper_compat labels and each schedule's rules, read from the records'
`meta["merge"]`, as the sweep's own report does.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evals.claims.verdicts import smoke_run_line
from evals.claims.verify import judge_and_report, judged_curves
from evals.records import SampleRecord
from evals.report.tables import format_verdict_table
from evals.store import ResultsStore
from evals.sweep.variants import recorded_variants


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
    p.add_argument("--bootstrap-seed", type=int, default=0,
                   help="seeds the bootstrap over problems behind every interval (default 0)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--judge-workers", type=_workers, default=None, help="processes judging (pair, benchmark) "
                   "groups side by side (default: every CPU this process may use; 1: judge here)")


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"--judge-workers must be a whole number >= 1, got {text!r}")
    return n


def finish(curves, meta: dict, args) -> int:
    verdicts, out, th = judge_and_report(curves, meta, report_dir=args.report_dir, run_id=args.run_id,
                                         n_boot=args.n_boot, bootstrap_seed=args.bootstrap_seed,
                                         plots=not args.no_plots, workers=getattr(args, "judge_workers", None))
    print(format_verdict_table(verdicts, note=True, level=th.level))
    smoke = smoke_run_line(curves, th)
    if smoke is not None:
        print(smoke)
    print(f"report: {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    records = read_records(args.results)
    if not records:
        raise ValueError(f"{args.results}: no complete records to report on")
    curves = judged_curves(records)
    if not curves:
        raise ValueError(f"{args.results}: records hold parents only; a report needs merge curves")
    return finish(curves, {"source": str(args.results), "records": len(records), **recorded_variants(records)}, args)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("report", help="rebuild a claim report from a results store",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results JSONL file or a folder of them")
    add_common_options(p)
    p.set_defaults(func=run)
