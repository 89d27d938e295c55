"""`spectrum probe CONFIG.yaml`: predict the transition's centre with forward passes only.

    spectrum probe configs/tiny.yaml                     # linear, lam 0..1 by 0.02, 60 problems
    spectrum probe configs/overthink.yaml --step 0.01 --problems 240

Reads the sweep config (pair, first benchmark, data, device, dtype, threads, results
store), writes each lam of the chosen method into one live model (InPlaceMerger) and
scores, with teacher forcing, how much the merge prefers the thinking parent's start over
the direct parent's (evals/probe.py). The parents' own per-problem results come from the
config's results store when it holds them; otherwise they are generated once (greedy or
the config's sampling, stored in the same store, so a later `spectrum sweep` reuses them),
or skipped with --no-parents (the fit is then on the predicted thinking share). Prints the
predicted centre with its bootstrap CI and the cost (forward passes, tokens, seconds).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from evals.backends.transformers_backend import TransformersBackend
from evals.benchmarks.registry import get_benchmark
from evals.method_labels import method_variant, parse_method_label
from evals.probe import ParentOutcomes, predict_transition, run_probe
from evals.runner import evaluate
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.variants import pair_schedules
from evals.sweep.weights import locate, pair_fingerprints
from merging.inplace import InPlaceMerger
from merging.registry import get_method


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("probe", help="predict the transition centre by teacher forcing (no generation)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="sweep config (YAML)")
    p.add_argument("--method", default=None, help="merge method label (default: the config's first)")
    p.add_argument("--lo", type=float, default=0.0, help="first lam of the grid")
    p.add_argument("--hi", type=float, default=1.0, help="last lam of the grid")
    p.add_argument("--step", type=float, default=0.02, help="grid step")
    p.add_argument("--problems", type=int, default=60, help="problems sampled from the benchmark (0: all)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the problem sample")
    p.add_argument("--ref-tokens", type=int, default=1, help="tokens of each parent's start to score")
    p.add_argument("--direct-ref", choices=("parent", "close"), default="parent",
                   help="direct start: the direct parent's first tokens, or `</think>` alone")
    p.add_argument("--no-parents", action="store_true", help="fit the predicted thinking share only")
    p.add_argument("--batch", type=int, default=256, help="sequences per forward pass")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the centre's CI")
    p.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap resampling")
    p.add_argument("--json", default=None, help="also write the result to this JSON file")
    p.set_defaults(func=run)


def grid(lo: float, hi: float, step: float) -> list[float]:
    if not (0.0 <= lo < hi <= 1.0) or step <= 0:
        raise ValueError(f"probe grid: need 0 <= --lo < --hi <= 1 and --step > 0, got {lo}, {hi}, {step}")
    n = int(round((hi - lo) / step))
    return sorted({round(min(hi, lo + i * step), 6) for i in range(n + 1)} | {hi})


def _parent_outcomes(cfg, pair, bench, problems, store_path: str):
    """(direct, think) ParentOutcomes on `problems` from the store, generating what is missing."""
    store = ResultsStore(store_path)
    fps = pair_fingerprints(pair, need_base=False)
    out, generated = {}, 0
    for role, lam in (("direct", 0.0), ("think", 1.0)):
        path = str(locate(getattr(pair, role)) or getattr(pair, role))
        before = len(store)
        backend = _LazyBackend(lambda p=path: TransformersBackend.from_pretrained(
            p, device=cfg.device, dtype=cfg.dtype, batch_size=cfg.batch_size), cfg.batch_size)
        recs = evaluate(backend, AutoTokenizer.from_pretrained(path), bench, problems, cfg.params_for(bench.name),
                        store=store, model=f"{pair.name}/{role}", model_fingerprint=fps[role], pair=pair.name,
                        lam=lam, prompt_mode=cfg.prompt_mode, progress=False)
        generated += sum(r.generated_tokens for r in store.records()[before:]) if len(store) > before else 0
        by: dict[str, list] = {}
        for r in recs:
            by.setdefault(r.problem_id, []).append(r)
        out[role] = ParentOutcomes({k: sum(r.correct for r in v) / len(v) for k, v in by.items()},
                                   {k: sum(r.generated_tokens for r in v) / len(v) for k, v in by.items()})
    return out["direct"], out["think"], generated


class _LazyBackend:
    """Loads the parent only if some sample is missing from the store."""

    def __init__(self, make, batch_size: int):
        self._make, self._backend = make, None
        self.batch_size, self.name, self.supports_sample_indices = batch_size, "transformers", True

    def generate(self, prompts, params, **kw):
        if self._backend is None:
            self._backend = self._make()
            self.batch_size = self._backend.batch_size
        return self._backend.generate(prompts, params, **kw)


def run(args) -> int:
    cfg = SweepConfig.from_yaml(args.config)
    pair, bench = cfg.pairs[0], get_benchmark(cfg.benchmarks[0])
    label = args.method or cfg.methods[0]
    name, params = parse_method_label(label)
    lams = grid(args.lo, args.hi, args.step)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    problems = bench.load(cfg.data.get(bench.name))
    if cfg.limit:
        problems = problems[:cfg.limit]
    if args.problems and args.problems < len(problems):
        problems = random.Random(args.sample_seed).sample(problems, args.problems)
    dirs = {r: str(locate(getattr(pair, r)) or getattr(pair, r)) for r in ("direct", "think", "base")
            if getattr(pair, r)}
    dtype = getattr(torch, cfg.dtype) if cfg.dtype else torch.float32
    model = AutoModelForCausalLM.from_pretrained(dirs["think"], dtype=dtype).to(cfg.device).eval()
    tok = AutoTokenizer.from_pretrained(dirs[pair.template_from])
    base = dirs.get("base") if get_method(name).needs_base else None
    variant = method_variant(label)  # a schedule / paper_compat label merges as the sweep does
    schedule = pair_schedules(replace(cfg, methods=(label,), lams=tuple(lams)), pair).get(variant.schedule)
    merger = InPlaceMerger(model, dirs["direct"], dirs["think"], base, method=name, params=params, seed=cfg.seed,
                           strength=schedule, paper_compat=variant.paper_compat)
    result = run_probe(model, tok, merger, problems, bench, lams, ref_tokens=args.ref_tokens,
                       direct_ref=args.direct_ref, prompt_mode=cfg.prompt_mode, batch=args.batch)
    direct = think = None
    generated = 0
    if not args.no_parents:
        direct, think, generated = _parent_outcomes(cfg, pair, bench, problems, cfg.results)
    tr = predict_transition(result, pair.name, bench.name, direct, think, n_boot=args.n_boot, seed=args.bootstrap_seed)
    target = "accuracy" if direct is not None else "thinking share"
    lo, hi = tr.centre_ci
    print(f"probe {pair.name}/{label} on {bench.name}: {len(problems)} problems, {len(lams)} lams "
          f"{lams[0]:g}..{lams[-1]:g}")
    print(f"predicted {target} transition: centre {tr.fit.c:.3f} (95% CI {lo:.3f}-{hi:.3f}), "
          f"10-90% width {tr.fit.width:.3f}")
    c = result.cost
    print(f"cost: {c.forward_passes} forward passes, {c.tokens} tokens, {c.seconds:.1f} s"
          + (f"; parents generated {generated} tokens" if direct is not None else ""))
    share = result.think_share()
    print("lam   predicted thinking share")
    for lam, s in zip(lams, share):
        print(f"{lam:5.2f} {s:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pair": pair.name, "method": label, "benchmark": bench.name, "target": target,
                       "centre": tr.fit.c, "centre_ci": list(tr.centre_ci), "width": tr.fit.width,
                       "lams": lams, "think_share": share.tolist(), "cost": c.as_dict(),
                       "parents_generated_tokens": generated, "problems": len(problems)}, f, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.probe_cli CONFIG ...` (the same as `spectrum probe CONFIG ...`)."""
    ap = argparse.ArgumentParser(prog="python -m evals.probe_cli")
    add_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["probe", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"spectrum probe: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
