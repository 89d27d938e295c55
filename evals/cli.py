"""`spectrum` command line: one entry point, one subcommand per module.

Each module named in SUBCOMMANDS defines `add_parser(subparsers)`, which registers its
subcommand and sets `func` (called with the parsed args, returns an exit code).
Run `spectrum --help` for the list.

One error path for every command (`main`): a user or environment error (a bad value, a
missing or unwritable file, a full disk, bad YAML, a wrongly typed config value, a garbage
safetensors file) prints one line `spectrum CMD: error: ...` and exits 2; Ctrl-C exits 130 after the same kind of line
(the results store has already flushed every finished record). `--debug`, anywhere on the
command line, re-raises instead, with the traceback.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys

import yaml
from safetensors import SafetensorError

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
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error (also accepted after the subcommand)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, mod_name in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(mod_name).add_parser(sub)
    return parser


# Errors a user or the environment causes; anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, yaml.YAMLError, SafetensorError)


def error_line(exc: BaseException) -> str:
    """One line for a user/environment error: the message, newlines folded, an OSError
    named by its file and what to do when the disk is full or the store read-only."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, TimeoutError):
        where = f"{exc.filename}: " if exc.filename else ""
        hint = {errno.ENOSPC: "; free space or write elsewhere (records written so far are kept)",
                errno.EROFS: "; give a writable path (e.g. --results elsewhere)",
                errno.EACCES: "; check the permissions or give another path",
                errno.EISDIR: "; give a file path, not a directory",
                errno.EEXIST: "; a file is in the way: give a folder path",
                errno.ENOTDIR: "; a file is in the way of that folder: give another path",
                errno.ENAMETOOLONG: "; use a shorter name"}.get(exc.errno, "")
        text = f"{where}{exc.strerror}{hint}"
    elif isinstance(exc, yaml.YAMLError):
        text = f"not valid YAML ({' '.join(str(exc).split())})"
    elif isinstance(exc, SafetensorError):
        text = f"not a readable safetensors file ({exc})"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    first = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(first if first in SUBCOMMANDS else None).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"spectrum {args.command}: error: interrupted (Ctrl-C); every record finished so far is in "
              "the results store and a rerun resumes from it", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"spectrum {args.command}: error: {error_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
