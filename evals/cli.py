"""`spectrum` command line: one entry point, one subcommand per module.

Each module named in SUBCOMMANDS defines `add_parser(subparsers)`, which registers its
subcommand and sets `func` (called with the parsed args, returns an exit code).
Run `spectrum --help` for the list.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Filled in one place: subcommand -> the module that owns its flags.
SUBCOMMANDS = {
    "merge": "merging.cli",
    "eval": "evals.eval_cli",
    "sweep": "evals.sweep.cli",
    "report": "evals.report.cli",
    "analyze": "evals.analysis.cli",
    "import": "evals.importing.cli",
    "probe": "evals.probe_cli",
    "plan": "evals.plan_cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, just that subcommand's module is imported (modules
    pull in torch/scipy, so `spectrum merge ...` need not pay for all of them)."""
    parser = argparse.ArgumentParser(
        prog="spectrum",
        description="Merge thinking/direct models at strength lam, evaluate accuracy and "
        "token cost, and verify the claims of 'The Thinking Spectrum' (arXiv 2509.22034).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, mod_name in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(mod_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(first if first in SUBCOMMANDS else None).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"spectrum {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
