"""`spectrum plan CONFIG`: what a sweep will cost before anything runs -- the token bill
(expected generated tokens per point and in total, GPU-hours at `--tokens-per-second`) and the
memory table per device (live model, parents, base, merge states, KV cache at the sampling cap
times the batch; whether it fits, and what to change when it does not).

    spectrum plan configs/qwen3-4b.yaml --gpu-gb 80,141 --tokens-per-second 2500
    spectrum plan configs/qwen3-30b-a3b.yaml --model-config configs/shapes/qwen3-30b-a3b.json

Lengths come from the parents' records in the results store when it has them (`evals.sweep.bill`
says which prior otherwise). The memory table reads the thinking parent's config.json (a local
directory or the hub cache; `--model-config FILE` otherwise, e.g. the published shapes in
configs/shapes/). Problem counts come from the benchmark data given under `data:`, else the
published sizes (AIME 30, HMMT 30, GPQA-Diamond 198).
`spectrum sweep` prints the same plan at its start and the actual figures at its end.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from evals.plan_memory import GB, Setup, format_plan, plan
from evals.benchmarks.registry import get_benchmark
from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.sweep.bill import PUBLISHED_SIZES, Bill, format_bill, token_bill
from evals.sweep.config import SweepConfig
from evals.sweep.plan import load_benchmark_problems, needs_base
from evals.sweep.weights import locate
from evals.method_labels import parse_method_label

PROMPT_TOKENS = 1000  # room for the longest prompt beside max_new_tokens


def problem_counts(cfg: SweepConfig) -> dict[str, int]:
    out = {}
    for b in cfg.benchmarks:
        if b in PUBLISHED_SIZES and cfg.data.get(b) is None:  # no hub lookups before a run
            out[b] = min(PUBLISHED_SIZES[b], cfg.limit or PUBLISHED_SIZES[b])
            continue
        try:
            out[b] = len(load_benchmark_problems(get_benchmark(b), cfg.data.get(b), cfg.limit))
        except (ValueError, OSError, ImportError) as exc:
            if b not in PUBLISHED_SIZES:
                raise ValueError(f"plan: cannot count the problems of {b} ({exc}); give its data "
                                 f"(data: {{{b}: PATH}})") from None
            out[b] = min(PUBLISHED_SIZES[b], cfg.limit or PUBLISHED_SIZES[b])
    return out


def stored_records(cfg: SweepConfig) -> list[SampleRecord]:
    return ResultsStore(cfg.results).records() if Path(cfg.results).exists() else []


def bill_of(cfg: SweepConfig, records: list[SampleRecord] | None = None) -> Bill:
    return token_bill(cfg, stored_records(cfg) if records is None else records, problem_counts(cfg))


def model_config(cfg: SweepConfig, path: str | None) -> tuple[dict, str] | None:
    """(config.json of the thinking parent, where it came from), or None when not on this machine."""
    src = Path(path) if path else None
    if src is None:
        d = locate(cfg.pairs[0].think)
        src = d / "config.json" if d is not None else None
    if src is None or not src.exists():
        return None
    try:
        raw = json.loads(src.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"plan: {src} is not a readable config.json ({exc})") from None
    return raw.get("text_config", raw), str(src)


def _dtype_bytes(cfg: SweepConfig) -> int:
    return 4 if cfg.dtype in ("float32", "fp32") or (cfg.dtype is None and cfg.device == "cpu") else 2


def memory_text(cfg: SweepConfig, gpu_gb: list[float], model_cfg: str | None = None,
                prompt_tokens: int = PROMPT_TOKENS) -> str:
    found = model_config(cfg, model_cfg)
    if found is None:
        return (f"memory: no config.json for {cfg.pairs[0].think} on this machine; give --model-config FILE "
                f"(published shapes: configs/shapes/)")
    mcfg, where = found
    tokens = max(cfg.params_for(b).max_new_tokens for b in cfg.benchmarks) + prompt_tokens
    parents = "host" if cfg.engine.get("parents") == "host" else "device"
    base = cfg.pairs[0].base is not None and any(needs_base(parse_method_label(m)[0]) for m in cfg.methods)
    blocks = []
    for gb in gpu_gb:
        setup = Setup(gb * GB, cfg.batch_size, tokens, tuple(cfg.methods), parents, cfg.merge_cache is not False,
                      base=base, tensor_parallel=int(cfg.engine.get("tensor_parallel_size", 1)),
                      dtype_bytes=_dtype_bytes(cfg))
        blocks.append(format_plan(mcfg, plan(mcfg, setup), f"memory ({where}, parents: {parents})"))
    return "\n".join(blocks)


def plan_text(cfg: SweepConfig, *, tokens_per_second: float | None = None, gpu_gb=(80.0,),
              model_cfg: str | None = None, per_point: bool = True, records=None) -> str:
    text = format_bill(bill_of(cfg, records), tokens_per_second, per_point=per_point)
    if cfg.adaptive is not None:
        text += (f"\n  lams: adaptive -- the bill is the start grid's; the search adds points up to "
                 f"{cfg.adaptive.max_points} per method" +
                 (f" or {cfg.adaptive.max_tokens:,.0f} tokens" if cfg.adaptive.max_tokens else ""))
    return text + "\n" + memory_text(cfg, list(gpu_gb), model_cfg)


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, e.g. 80,141; got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    cfg = SweepConfig.from_yaml(args.config)
    if args.results:
        cfg = replace(cfg, results=args.results)
    print(plan_text(cfg, tokens_per_second=args.tokens_per_second, gpu_gb=args.gpu_gb,
                    model_cfg=args.model_config, per_point=not args.summary))
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("plan", help="token bill and memory table of a sweep, before it runs",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="sweep config (YAML)")
    p.add_argument("--tokens-per-second", type=float, help="generation throughput for the GPU-hours")
    p.add_argument("--gpu-gb", type=_floats, default=[80.0], help="device memory in GB, e.g. 80,141 (default 80)")
    p.add_argument("--model-config", help="config.json of the model (default: the thinking parent's)")
    p.add_argument("--results", help="results store whose parent records give the lengths")
    p.add_argument("--summary", action="store_true", help="totals only, no line per point")
    p.set_defaults(func=run)
