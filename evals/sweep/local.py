"""A lam sweep in this process: every (pair, method, lam, benchmark) point into one results store.

    records = run_sweep(SweepConfig.from_preset("tiny"))    # resumes from config.results

One model is loaded per pair and merged in place for each point (merging.inplace), so a
sweep touches the disk only to read the parents once. Parents are evaluated as plain
checkpoints (method None, lam 0 / 1) with their own chat templates; merges use the
template of `pair.template_from`. Points whose samples are all stored are skipped without
merging (the merge is applied lazily on the first generate call).
"""
from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.plan import SweepPlan, load_problems
from evals.sweep.presets import PairSpec
from evals.sweep.worker import PairWorker


def run_sweep(config: SweepConfig, *, store=None, progress: bool = True) -> list[SampleRecord]:
    """Evaluate every point of `config` (resuming from its results store); returns all records."""
    store = store if store is not None else ResultsStore(_ensure_parent(config.results))
    out: list[SampleRecord] = []
    for pair in config.pairs:
        out.extend(_run_pair(config, pair, store, progress))
    return out


def _ensure_parent(path: str) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def _run_pair(config: SweepConfig, pair: PairSpec, store, progress: bool) -> list[SampleRecord]:
    problems = load_problems(config)
    plan = SweepPlan(config, problems=problems)
    jobs = [j for j in plan.jobs if j.pair == pair.name]
    if not any(plan.missing(j, store) for j in jobs):  # all stored: no model to load
        return [store.get(k) for j in jobs for k in plan.keys(j)]
    threads_before = torch.get_num_threads()
    try:
        worker = PairWorker(config, pair, problems=problems)
        return _run_jobs(config, pair, worker, jobs, store, progress)
    finally:
        torch.set_num_threads(threads_before)


def _run_jobs(config: SweepConfig, pair: PairSpec, worker, jobs, store, progress: bool) -> list[SampleRecord]:
    records: list[SampleRecord] = []
    bar = tqdm(total=2 + len(config.methods) * len(config.lams), disable=not progress, unit="point",
               desc=f"sweep {pair.name}")
    for i, job in enumerate(jobs):
        records.extend(worker.run(job, store))
        if i + 1 == len(jobs) or jobs[i + 1].point != job.point:
            bar.update(1)
            bar.set_postfix(method=job.method or job.role)
    bar.close()
    worker.close()
    return records
