"""Session state of the claim suite: runs each pair's sweep once, judges every case of it,
and writes the report at the end. Resource checks happen here, so a missing GPU, missing
weights or missing data skip the pair's tests with a reason that says what to provide. A pair
whose sweep raises (broken weights, say) is tried once: every test of it fails with that message.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from evals.claims.catalog import judge_case, plan_claims
from evals.claims.verify import judge_and_report, judged_curves
from evals.claims.verdicts import Thresholds, Verdict, smoke_run_line
from evals.benchmarks.registry import get_benchmark
from evals.store import ResultsStore
from evals.method_labels import parse_method_label
from evals.sweep.local import run_sweep
from evals.sweep.plan import needs_base
from evals.sweep.weights import missing_weights, pair_movement
from test_spectrum.expected import UNAPPLIED_NOTE, known_findings, unapplied_finding
from test_spectrum.options import sweep_config


class _PairOutcome:
    def __init__(self, skip: str | None = None, curves=(), verdicts=None, error: str | None = None):
        self.skip, self.curves, self.verdicts, self.error = skip, list(curves), verdicts or {}, error


class SuiteState:
    def __init__(self, config: pytest.Config):
        self.config = config
        self._pairs: dict[str, _PairOutcome] = {}
        self.report_path: Path | None = None
        self.notes: list[str] = []
        self.cases_run = 0  # claim cases that asked for a verdict
        self.cases_skipped = 0  # ... and skipped for a missing resource
        self._meta: dict[str, dict] = {}  # pair -> its sweep settings and children's movement

    # -- what tests call -------------------------------------------------------------
    @property
    def skip_reasons(self) -> set[str]:
        return {o.skip for o in self._pairs.values() if o.skip}

    def judge(self, case) -> Verdict:
        self.cases_run += 1
        outcome = self._pairs.get(case.pair)
        if outcome is None:
            try:
                outcome = self._run_pair(case.pair)
            except Exception as exc:  # noqa: BLE001 - cached: the pair is loaded once, every test gets this
                outcome = _PairOutcome(error=f"pair {case.pair}: the sweep failed, so none of its claims "
                                             f"can be judged: {type(exc).__name__}: {exc}")
            self._pairs[case.pair] = outcome
        if outcome.error:
            pytest.fail(outcome.error, pytrace=False)
        if outcome.skip:
            self.cases_skipped += 1
            pytest.skip(outcome.skip)
        return outcome.verdicts[case.id]

    @property
    def verdicts_seen(self) -> list[Verdict]:
        return [v for o in self._pairs.values() for v in o.verdicts.values()]

    # -- one pair ----------------------------------------------------------------------
    def _run_pair(self, pair_name: str) -> _PairOutcome:
        cfg = sweep_config(self.config, pair_name)
        judge_only = self.config.getoption("--judge-only")
        if judge_only:
            if not Path(cfg.results).is_file():
                return _PairOutcome(skip=f"--judge-only: no results file {cfg.results}; pass --results")
            records = [r for r in ResultsStore(cfg.results).records() if r.pair == pair_name]
            movement = None
        else:
            reason = self._unavailable(cfg)
            if reason:
                return _PairOutcome(skip=reason)
            t0 = time.perf_counter()
            records = run_sweep(cfg, progress=self.config.getoption("verbose") > 0)
            self.notes.append(f"sweep {pair_name}: {len(records)} samples in {time.perf_counter() - t0:.1f} s "
                              f"(results: {cfg.results})")
            movement = pair_movement(cfg.pairs[0])
        if not records:
            return _PairOutcome(skip=f"no results for pair {pair_name!r} in {cfg.results}")
        curves = [c for c in judged_curves(records)
                  if c.method in cfg.methods and c.benchmark in cfg.benchmarks]
        n_boot = self.config.getoption("--n-boot")
        verdicts = {}
        for case in plan_claims([pair_name], cfg.methods, cfg.benchmarks):
            verdicts[case.id] = judge_case(case, curves, movement={pair_name: movement} if movement else None,
                                           n_boot=n_boot)
        self._meta[pair_name] = {"config": _describe(cfg), "movement": movement}
        return _PairOutcome(curves=curves, verdicts=verdicts)

    def _unavailable(self, cfg) -> str | None:
        """Why this pair cannot run here, naming what to provide; None when it can."""
        pair = cfg.pairs[0]
        if cfg.device.startswith("cuda"):
            if not torch.cuda.is_available():
                return (f"pair {pair.name} needs a CUDA device (torch.cuda.is_available() is False); "
                        "run on a GPU machine, or pass --device cpu to try it on CPU")
        need_base = any(needs_base(parse_method_label(m)[0]) for m in cfg.methods)
        missing = missing_weights(pair, need_base)
        if missing:
            return (f"pair {pair.name}: missing " + "; ".join(missing)
                    + ". Provide them with --direct/--think/--base")
        for name in cfg.benchmarks:
            try:
                if not get_benchmark(name).load(cfg.data.get(name)):
                    return f"benchmark {name}: no problems; pass --data {name}=PATH"
            except Exception as exc:  # noqa: BLE001 - any loading failure is a skip reason
                return f"benchmark {name}: data unavailable ({exc}); pass --data {name}=PATH (JSONL or parquet)"
        return None

    # -- the report ----------------------------------------------------------------------
    def write_report(self) -> None:
        outcomes = [o for o in self._pairs.values() if o.verdicts]
        if not outcomes:
            return
        curves = [c for o in outcomes for c in o.curves]
        meta = {"source": "pytest claim suite"}
        for pair, info in self._meta.items():
            meta.update({f"{pair} {k}": v for k, v in info["config"].items()})
            if info["movement"]:
                meta[f"{pair} movement"] = ", ".join(f"{k} {v:.4g}" for k, v in info["movement"].items())
        ignore = self.config.getoption("--ignore-known-findings")
        unapplied = sorted({v.method for v in self.verdicts_seen if unapplied_finding(v)})
        if unapplied and not ignore:  # variants whose plain method's findings do not carry over
            meta["known findings"] = f"{', '.join(unapplied)}: {UNAPPLIED_NOTE}"
        _, self.report_path, _ = judge_and_report(curves, meta, report_dir=self.config.getoption("--report-dir"),
                                                  n_boot=self.config.getoption("--n-boot"),
                                                  verdicts=self.verdicts_seen,
                                                  known=None if ignore else known_findings(self.verdicts_seen))
        smoke = smoke_run_line(curves, Thresholds())
        if smoke is not None:
            self.notes.append(smoke)


def _describe(cfg) -> dict:
    p = cfg.pairs[0]
    return {"direct": p.direct, "think": p.think, "base": p.base, "methods": list(cfg.methods),
            "lams": list(cfg.lams), "benchmarks": list(cfg.benchmarks), "sampling": cfg.sampling.to_dict(),
            "samples": dict(cfg.samples), "limit": cfg.limit, "device": cfg.device, "results": cfg.results,
            "paper_compat": cfg.paper_compat}
