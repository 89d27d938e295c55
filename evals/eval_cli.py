"""`spectrum eval`: evaluate one checkpoint on one benchmark into a resumable results file.

    spectrum eval --model models/qwen3-4b-thinking --benchmark aime25 --data data/aime25.jsonl \
        --samples 10 --results results/aime25.jsonl --lam 1.0 --pair qwen3-4b

Rerunning the same command skips every sample already in --results. Defaults follow the
paper's single setting for all merges (T=0.6, top_p=0.95, top_k=20). A parent checkpoint
is recorded with method none and --lam 0 (direct) or 1 (think).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoTokenizer

from evals.backends.base import SamplingParams
from evals.backends.transformers_backend import TransformersBackend
from evals.backends.vllm_backend import VLLMBackend, prepare_engine
from evals.backends.vllm_settings import longest_prompt_tokens
from evals.benchmarks.registry import get_benchmark, list_benchmarks
from evals.grading.judging import add_judge_options, format_scores, judge_from_args, rubric_from_args, rubric_scores
from evals.metrics import summary_table
from evals.prompting import render_prompt
from evals.runner import evaluate, fingerprint_model
from evals.store import ResultsStore
from evals.sweep.presets import get_preset
from evals.validation import check_count, check_data_file, check_device, check_lams, check_limit, check_samples


# The paper preset's cap (evals.sweep.presets, qwen3-4b): one number, one source.
PAPER_MAX_NEW_TOKENS = get_preset("qwen3-4b").sampling.max_new_tokens


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on a benchmark (resumable)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder (config, tokenizer, safetensors)")
    p.add_argument("--benchmark", required=True, help="benchmark name (see list with --benchmark help)")
    p.add_argument("--data", default=None, help="local JSONL/parquet file or folder (default: the hub)")
    p.add_argument("--samples", type=int, default=None, help="samples per problem k (default: the benchmark's)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N problems")
    p.add_argument("--max-new-tokens", type=int, default=PAPER_MAX_NEW_TOKENS,
                   help=f"generation cap; an output hitting it counts as wrong (default {PAPER_MAX_NEW_TOKENS}, "
                        "the paper preset's)")
    p.add_argument("--temperature", type=float, default=0.6, help="sampling temperature (default 0.6, the paper's)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (default 0.95)")
    p.add_argument("--top-k", type=int, default=20, help="top-k sampling cut (default 20)")
    p.add_argument("--sample-seed", type=int, default=0,
                   help="seeds generation: sample i of a problem draws from (sample seed, prompt, i) (default 0)")
    p.add_argument("--backend", choices=("transformers", "vllm"), default="transformers",
                   help="generation backend (default transformers)")
    p.add_argument("--device", default="cpu", help="transformers device, e.g. cpu or cuda")
    p.add_argument("--engine", action="append", default=[], metavar="KEY=VALUE",
                   help="vLLM engine setting, repeatable (max_model_len defaults to the longest prompt plus "
                        "--max-new-tokens; gpu_memory_utilization, tensor_parallel_size, enforce_eager, ...)")
    p.add_argument("--dtype", default=None, help="weights dtype, e.g. bfloat16 (default float32 on transformers)")
    p.add_argument("--batch-size", type=int, default=8, help="samples decoded together (transformers)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is fastest on a busy machine)")
    p.add_argument("--prompt-mode", choices=("chat_template", "chatml_system", "raw"), default="chat_template",
                   help="how a prompt is rendered (default: the model's chat template)")
    p.add_argument("--grade-full-text", action="store_true", help="grade the whole output, as the paper did")
    p.add_argument("--label", default=None, help="model label in records (default: folder name)")
    p.add_argument("--pair", default="custom", help="pair name, e.g. qwen3-4b or tiny")
    p.add_argument("--method", default=None, help="merge method that produced the checkpoint (none for a parent)")
    p.add_argument("--lam", type=float, default=None, help="thinking weight lam of the checkpoint, in [0, 1]")
    p.add_argument("--allow-extrapolation", action="store_true",
                   help="accept a --lam outside [0, 1] (an extrapolated merge)")
    p.add_argument("--fingerprint", default=None, help="override the content hash of the weights")
    p.add_argument("--results", required=True, help="results JSONL (appended to, never rewritten)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_judge_options(p)
    p.set_defaults(func=run)


def check_args(args) -> None:
    """Every value checked before any loading (one line naming the flag and the fix)."""
    check_limit(args.limit, "--limit")
    if args.samples is not None:
        check_samples(args.samples, "--samples")
    if args.lam is not None:
        check_lams([args.lam], "--lam", extrapolate=args.allow_extrapolation)
    for flag in ("batch_size", "max_new_tokens", "threads"):
        if getattr(args, flag) is not None:
            check_count(getattr(args, flag), flag, f"--{flag.replace('_', '-')}")
    check_device(args.device, "--device")
    if args.data is not None and Path(args.data).is_file():
        check_data_file(args.data, "--data")


def run(args) -> int:
    if args.benchmark == "help":
        print("\n".join(list_benchmarks()))
        return 0
    check_args(args)
    bench = get_benchmark(args.benchmark)
    model_dir = Path(args.model)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: no such checkpoint folder; pass --model DIR")
    judge = judge_from_args(args)
    if judge is not None and bench.kind != "creative":
        raise ValueError(f"--judge-* flags score creative benchmarks; {bench.name} is graded by its own grader")
    rubric = rubric_from_args(args, args.data) if judge is not None else None
    problems = bench.load(args.data)
    if not problems:
        raise ValueError(f"benchmark {bench.name}: no problems loaded from {args.data or 'the hub'}; "
                         "give a data file holding its problems (--data)")
    if args.limit is not None:
        problems = problems[: args.limit]
    params = SamplingParams(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                            max_new_tokens=args.max_new_tokens, n=args.samples or bench.default_samples,
                            seed=args.sample_seed)
    store = ResultsStore(args.results)  # a directory or an unreadable store is refused before loading
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.backend == "vllm":
        tok = AutoTokenizer.from_pretrained(str(model_dir))
        longest = longest_prompt_tokens(tok, [render_prompt(tok, p, bench, args.prompt_mode) for p in problems])
        settings = prepare_engine(model_dir, {}, args.engine, longest_prompt=longest,
                                  max_new_tokens=params.max_new_tokens, dtype=args.dtype)
        backend = VLLMBackend(str(model_dir), dtype=args.dtype or "auto", seed=args.sample_seed, **settings)
    else:
        backend = TransformersBackend.from_pretrained(str(model_dir), device=args.device, dtype=args.dtype,
                                                      batch_size=args.batch_size)
    records = evaluate(
        backend, backend.tokenizer, bench, problems, params, store=store, model=args.label or model_dir.name,
        model_fingerprint=args.fingerprint or fingerprint_model(model_dir), pair=args.pair,
        method=None if args.method in (None, "none") else args.method, lam=args.lam,
        prompt_mode=args.prompt_mode, grade_full_text=args.grade_full_text, progress=not args.no_progress,
    )
    print(summary_table(records))
    print(f"{len(records)} records in {args.results}")
    if judge is not None:
        print(format_scores(rubric_scores(judge, rubric, problems, records)))
    return 0
