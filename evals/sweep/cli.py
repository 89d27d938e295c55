"""`spectrum sweep CONFIG.yaml`: evaluate a whole lam sweep into a results store, then judge
the paper's claims and write a report (the command-line twin of the pytest claim suite).

    spectrum sweep configs/tiny.yaml                 # tiny fixture pair on CPU, ~2 minutes
    spectrum sweep configs/qwen3-4b.yaml --limit 5   # a smoke run of the real study
    spectrum sweep configs/qwen3-4b.yaml --ray --ray-address auto   # every GPU of a Ray cluster

CONFIG keys (all optional except a pair): pair | pairs, preset (whose defaults the unset keys
take: a pair preset's for `pair: NAME`, the real study's `study` for a pair named in the
config), methods, lams (or `adaptive`, with an adaptive: {start, target, min_step,
max_points, max_tokens, centre} section), sequential {first: N} (temperature > 0: samples added only
where a verdict can change), benchmarks,
sampling {temperature, top_p, top_k, max_new_tokens, n, seed}, samples {bench: k},
data {bench: path}, limit, prompt_mode, backend, device, dtype, batch_size, seed, results,
engine {vllm.LLM kwargs; parents: device|host|auto}, merge_cache (true|false|null = when it fits),
paper_compat; a methods entry may be {method, schedule, paper_compat} (evals.sweep.variants).
A rerun resumes: samples already in the results store are not generated again.
With --ray each (pair, method, lam, benchmark, seed) job runs on a Ray actor holding one GPU
(one CPU for a CPU config); the driver alone writes the store (evals.sweep.ray_driver).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from evals.backends.vllm_settings import parse_engine_options
from evals.benchmarks.registry import get_benchmark
from evals.claims.verdicts import smoke_run_line
from evals.claims.verify import judge_and_report, judged_curves
from evals.plan_cli import bill_of, memory_text, stored_records
from evals.sweep.bill import format_actual, format_bill
from evals.grading.judging import add_judge_options, format_scores, judge_from_args, rubric_from_args, rubric_scores
from evals.report.cli import add_common_options
from evals.report.tables import format_verdict_table
from evals.sweep.adaptive import format_rounds, run_adaptive
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep
from evals.sweep.plan import load_problems
from evals.sweep.ray_driver import run_ray_sweep
from evals.sweep.sequential import run_sequential
from evals.sweep.variants import describe_variants
from evals.sweep.weights import pair_movement
from evals.validation import check_device, check_limit


def run(args: argparse.Namespace) -> int:
    if args.limit is not None:
        check_limit(args.limit, "--limit")
    if args.device is not None:
        check_device(args.device, "--device")
    cfg = SweepConfig.from_yaml(args.config)
    overrides = {k: v for k, v in (("results", args.results), ("limit", args.limit), ("device", args.device))
                 if v is not None}
    if args.engine:
        overrides["engine"] = {**cfg.engine, **parse_engine_options(args.engine)}
    cfg = replace(cfg, **overrides)
    print(cfg.describe_defaults())
    judge = judge_from_args(args)
    creative = [b for b in cfg.benchmarks if get_benchmark(b).kind == "creative"]
    if judge is not None and not creative:
        raise ValueError(f"--judge-* flags score creative benchmarks; {args.config} sweeps none")
    rubrics = {b: rubric_from_args(args, cfg.data.get(b)) for b in creative} if judge is not None else {}
    before = stored_records(cfg)
    bill = bill_of(cfg, before)
    print(format_bill(bill, args.tokens_per_second, per_point=False))
    if cfg.device.startswith("cuda"):
        print(memory_text(cfg, [_device_gb()]))
    started = time.perf_counter()
    if args.ray:
        env = {"working_dir": args.ray_working_dir, "excludes": ["results/", "reports/", ".git/"]} \
            if args.ray_working_dir else None
        run_fn = lambda c, progress: run_ray_sweep(c, address=args.ray_address, workers=args.workers,  # noqa: E731
                                                   gpus_per_worker=args.gpus_per_worker, progress=progress,
                                                   runtime_env=env)
    else:
        run_fn = run_sweep
    if cfg.adaptive is not None and cfg.sequential is not None:
        raise ValueError(f"{args.config}: lams: adaptive and sequential: run one at a time")
    if cfg.sequential is not None:  # rounds of ordinary sweeps at growing counts (evals.sweep.sequential)
        records, rounds = run_sequential(cfg, run_fn=run_fn, progress=not args.quiet)
        print(f"sequential: {len(rounds)} rounds; {len(records):,} samples where the full count is "
              f"{bill.samples:,}")
    elif cfg.adaptive is not None:  # rounds of ordinary sweeps (evals.sweep.adaptive)
        records, rounds = run_adaptive(cfg, run_fn=run_fn, progress=not args.quiet)
        print(format_rounds(rounds))
    else:
        records = run_fn(cfg, progress=not args.quiet)
    print(f"{len(records)} samples in {cfg.results}")
    done = {r.key() for r in before}
    print(format_actual(records, sum(r.generated_tokens for r in records if r.key() not in done),
                        time.perf_counter() - started, bill))
    if rubrics:
        problems = load_problems(cfg)
        for b, rubric in rubrics.items():
            print(format_scores(rubric_scores(judge, rubric, problems[b], [r for r in records if r.benchmark == b])))
    if args.no_report:
        return 0
    movement = _movement(cfg)
    curves = judged_curves(records)
    meta = {"source": f"spectrum sweep {args.config}", "results": cfg.results, "records": len(records),
            "movement": movement, **describe_variants(cfg)}
    verdicts, out, th = judge_and_report(curves, meta, report_dir=args.report_dir, run_id=args.run_id,
                                         movement=movement, n_boot=args.n_boot,
                                         bootstrap_seed=args.bootstrap_seed, plots=not args.no_plots,
                                         workers=args.judge_workers)
    print(format_verdict_table(verdicts, level=th.level))
    smoke = smoke_run_line(curves, th)
    if smoke is not None:
        print(smoke)
    print(f"report: {out}/claims.md")
    return 0


def _device_gb() -> float:
    return torch.cuda.get_device_properties(0).total_memory / 1e9 if torch.cuda.is_available() else 80.0


def _movement(cfg) -> dict:
    return {p.name: pair_movement(p) for p in cfg.pairs if p.base is not None}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="evaluate a lam sweep and write a claim report",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="sweep config (YAML)")
    p.add_argument("--results", help="results store (JSONL); overrides the config's")
    p.add_argument("--limit", type=int, help="first N problems of each benchmark")
    p.add_argument("--device", help="cpu or cuda; overrides the config's")
    p.add_argument("--engine", action="append", default=[], metavar="KEY=VALUE",
                   help="vLLM engine setting, repeatable (max_model_len, gpu_memory_utilization, "
                        "tensor_parallel_size, enforce_eager, parents=device|host|auto, other vllm.LLM keys); "
                        "overrides the config's engine:")
    p.add_argument("--no-report", action="store_true", help="only fill the results store")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--tokens-per-second", type=float, help="throughput for the token bill's GPU-hours")
    r = p.add_argument_group("Ray (pip install 'thinking-spectrum[ray]')")
    r.add_argument("--ray", action="store_true", help="run the jobs on Ray actors, one device each")
    r.add_argument("--ray-address", help="cluster to join (e.g. auto, ray://head:10001); default: $RAY_ADDRESS, "
                        "a cluster started here by `ray start`, else a new local one")
    r.add_argument("--workers", type=int, help="actors (default: GPUs // --gpus-per-worker, or CPUs for a CPU config)")
    r.add_argument("--gpus-per-worker", type=float,
                   help="GPUs per actor (default 1 on CUDA/vLLM, 0 on CPU; >1 for tensor parallel)")
    r.add_argument("--ray-working-dir", help="ship this source tree to the workers (runtime_env working_dir)")
    add_common_options(p)
    add_judge_options(p)
    p.set_defaults(func=run)
