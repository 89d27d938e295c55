"""`spectrum eval`: evaluate one checkpoint on one benchmark into a resumable results file.

    spectrum eval --model models/qwen3-4b-thinking --benchmark aime25 --data data/aime25.jsonl \
        --samples 10 --max-new-tokens 32768 --results results/aime25.jsonl --lam 1.0 --pair qwen3-4b

Rerunning the same command skips every sample already in --results. Defaults follow the
paper's single setting for all merges (T=0.6, top_p=0.95, top_k=20). A parent checkpoint
is recorded with method none and --lam 0 (direct) or 1 (think).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on a benchmark (resumable)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder (config, tokenizer, safetensors)")
    p.add_argument("--benchmark", required=True, help="benchmark name (see list with --benchmark help)")
    p.add_argument("--data", default=None, help="local JSONL/parquet file or folder (default: the hub)")
    p.add_argument("--samples", type=int, default=None, help="samples per problem k (default: the benchmark's)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N problems")
    p.add_argument("--max-new-tokens", type=int, default=32768)
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--top-k", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=("transformers", "vllm"), default="transformers")
    p.add_argument("--device", default="cpu", help="transformers device, e.g. cpu or cuda")
    p.add_argument("--dtype", default=None, help="weights dtype, e.g. bfloat16 (default float32 on transformers)")
    p.add_argument("--batch-size", type=int, default=8, help="samples decoded together (transformers)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is fastest on a busy machine)")
    p.add_argument("--prompt-mode", choices=("chat_template", "chatml_system", "raw"), default="chat_template")
    p.add_argument("--grade-full-text", action="store_true", help="grade the whole output, as the paper did")
    p.add_argument("--label", default=None, help="model label in records (default: folder name)")
    p.add_argument("--pair", default="custom", help="pair name, e.g. qwen3-4b or tiny")
    p.add_argument("--method", default=None, help="merge method that produced the checkpoint (none for a parent)")
    p.add_argument("--lam", type=float, default=None, help="thinking weight lam of the checkpoint")
    p.add_argument("--fingerprint", default=None, help="override the content hash of the weights")
    p.add_argument("--results", required=True, help="results JSONL (appended to, never rewritten)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from evals.backends.base import SamplingParams
    from evals.benchmarks.registry import get_benchmark, list_benchmarks
    from evals.metrics import summary_table
    from evals.runner import evaluate, fingerprint_model
    from evals.store import ResultsStore

    if args.benchmark == "help":
        print("\n".join(list_benchmarks()))
        return 0
    bench = get_benchmark(args.benchmark)
    model_dir = Path(args.model)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: no such checkpoint folder; pass --model DIR")
    problems = bench.load(args.data)
    if args.limit is not None:
        problems = problems[: args.limit]
    params = SamplingParams(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                            max_new_tokens=args.max_new_tokens, n=args.samples or bench.default_samples,
                            seed=args.seed)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.backend == "vllm":
        from evals.backends.vllm_backend import VLLMBackend

        backend = VLLMBackend(str(model_dir), dtype=args.dtype or "auto", seed=args.seed)
    else:
        from evals.backends.transformers_backend import TransformersBackend

        backend = TransformersBackend.from_pretrained(str(model_dir), device=args.device, dtype=args.dtype,
                                                      batch_size=args.batch_size)
    store = ResultsStore(args.results)
    records = evaluate(
        backend, backend.tokenizer, bench, problems, params, store=store, model=args.label or model_dir.name,
        model_fingerprint=args.fingerprint or fingerprint_model(model_dir), pair=args.pair,
        method=None if args.method in (None, "none") else args.method, lam=args.lam,
        prompt_mode=args.prompt_mode, grade_full_text=args.grade_full_text, progress=not args.no_progress,
    )
    print(summary_table(records))
    print(f"{len(records)} records in {args.results}")
    return 0
