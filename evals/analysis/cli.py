"""`spectrum analyze TABLE.csv [--report-dir DIR]`: verdicts for an outside results table.

TABLE.csv has columns method,lam,benchmark,accuracy,mean_tokens,n (optional: pair).
lam is the thinking weight; accuracy a fraction or a percent (a table with any value
above 1 is read as percent); mean_tokens may be empty, and then only the accuracy
claims are judged; n is the number of problems (accuracy is resampled binomially).
Parents are rows with method direct/instruct and think/thinking, else the lam 0/1 rows
of the linear curve. Prints the verdict table and writes a report like `spectrum report`.
"""
from __future__ import annotations

import argparse

from evals.analysis.table import curves_from_table
from evals.report.cli import add_common_options, finish


def run(args: argparse.Namespace) -> int:
    curves = curves_from_table(args.table, pair=args.pair)
    if not curves:
        raise ValueError(f"{args.table}: only parent rows; add rows for at least one merge method")
    return finish(curves, {"source": str(args.table)}, args)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="judge the claims on an outside results table",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("table", help="CSV with columns method,lam,benchmark,accuracy,mean_tokens,n")
    p.add_argument("--pair", default=None, help="pair name for rows without a pair column "
                   "(default: the file's stem)")
    add_common_options(p)
    p.set_defaults(func=run)
