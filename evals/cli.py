"""`spectrum` command line: one entry point, one subcommand per module.

Each module in SUBCOMMANDS defines `add_parser(subparsers)`, which registers its
subcommand and sets `func` (called with the parsed args, returns an exit code).
Run `spectrum --help` for the list.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Filled in one place; each module owns its subcommand's flags.
SUBCOMMANDS = [
    "merging.cli",  # spectrum merge
    "evals.report.cli",  # spectrum report
    "evals.analysis.cli",  # spectrum analyze
    "evals.eval_cli",  # spectrum eval
    "evals.sweep_cli",  # spectrum sweep
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spectrum",
        description="Merge thinking/direct models at strength lam, evaluate accuracy and "
        "token cost, and verify the claims of 'The Thinking Spectrum' (arXiv 2509.22034).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod_name in SUBCOMMANDS:
        importlib.import_module(mod_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"spectrum {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
