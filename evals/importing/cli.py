"""`spectrum import`: outside per-sample results -> records of the results store.

    spectrum import runs/*/aime24/test_qwen25-no-cot_*.jsonl --benchmark aime24 \
        --pattern '(?P<method>linear)_(?P<lam>[0-9.]+)/' --pair qwen3-4b \
        --tokenizer models/Qwen3-4B-Thinking-2507 --results results/imported.jsonl --compare
    spectrum report results/imported.jsonl

Formats (auto-detected): the Qwen2.5-Math harness JSONL the paper released, lm-eval
`samples_*.jsonl`, lighteval details parquet. Every completion is re-graded by our grader;
the outside grade is kept beside ours, and `--compare` prints the agreement and every
disagreement (how to audit our grader against theirs). Files are mapped to (pair, method,
lam) with `--pattern` (named groups pair/method/lam matched on the path), `--map CSV`
(file,pair,method,lam), or fixed `--pair/--method/--lam`. Samples already in --results
are skipped, so rerunning is safe.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evals.benchmarks.registry import get_benchmark
from evals.importing.formats import read_outside
from evals.importing.importer import disagreements, import_problems
from evals.importing.mapping import Target, from_csv, from_pattern
from evals.store import ResultsStore


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("import", help="turn outside per-sample results into results-store records",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", help="outside result files (harness JSONL, lm-eval samples, lighteval parquet)")
    p.add_argument("--benchmark", required=True, help="our benchmark whose grader re-grades the completions")
    p.add_argument("--results", required=True, help="results store JSONL to append to")
    p.add_argument("--format", default="auto", choices=("auto", "harness", "lm_eval", "lighteval"))
    p.add_argument("--pattern", default=None, help="regex with groups (?P<pair>) (?P<method>) (?P<lam>) on the path")
    p.add_argument("--map", default=None, help="CSV with columns file,pair,method,lam")
    p.add_argument("--pair", default=None, help="pair name when the pattern/CSV does not give it")
    p.add_argument("--method", default=None, help="merge method (none for a parent) without a pattern/CSV")
    p.add_argument("--lam", type=float, default=None, help="thinking weight lam without a pattern/CSV")
    p.add_argument("--tokenizer", default=None, help="local tokenizer folder of the evaluated model (token counts)")
    p.add_argument("--prompt-mode", default=None, choices=("chat_template", "chatml_system", "raw"),
                   help="prompt mode the outside run used (default: chatml_system for the harness)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="the outside run's token cap (flags cut-off samples)")
    p.add_argument("--compare", action="store_true", help="print agreement with the outside grades and every disagreement")
    p.set_defaults(func=run)


def _target(args, path: str) -> Target:
    if args.map:
        return from_csv(path, args.map)
    if args.pattern:
        return from_pattern(path, args.pattern, pair=args.pair)
    if not args.pair:
        raise ValueError("give --pattern, --map CSV, or --pair (with --method/--lam) to say which model each file is")
    method = None if args.method in (None, "none") else args.method
    return Target(pair=args.pair, method=method, lam=args.lam)


def run(args: argparse.Namespace) -> int:
    benchmark = get_benchmark(args.benchmark)
    tokenizer = None
    if args.tokenizer:
        from transformers import AutoTokenizer

        if not Path(args.tokenizer).is_dir():
            raise FileNotFoundError(f"--tokenizer {args.tokenizer}: not a folder; give the model's tokenizer folder")
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    planned = []
    for path in args.files:  # read and map every file before writing anything
        fmt, problems = read_outside(path, args.format)
        target = _target(args, path)
        recs = import_problems(problems, benchmark=benchmark, target=target, fmt=fmt, tokenizer=tokenizer,
                               model=f"{target.pair}/{target.method or 'parent'}@{target.lam}",
                               prompt_mode=args.prompt_mode, max_new_tokens=args.max_new_tokens)
        planned.append((path, fmt, recs))
    store = ResultsStore(args.results)
    for path, fmt, recs in planned:
        new = [r for r in recs if r.key() not in store]
        store.extend(new)
        print(f"{path}: {fmt}, {len(recs)} samples, {len(new)} new -> {args.results}")
        if args.compare:
            n, agree, diffs = disagreements(recs)
            share = f"{100 * agree / n:.1f}%" if n else "n/a"
            print(f"  agreement with the outside grades: {agree}/{n} ({share}); {len(diffs)} disagreements")
            for d in diffs:
                print(f"  problem {d.problem_id} sample {d.sample_index}: outside {d.outside:g}, ours "
                      f"{'correct' if d.ours else 'wrong'} (read {d.extracted!r}) ... {d.tail!r}")
    return 0
