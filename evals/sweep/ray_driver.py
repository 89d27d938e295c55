"""A sweep spread over a Ray cluster: every (pair, method, lam, benchmark, seed) job on an actor
holding one GPU (or one CPU for a CPU config), the results store written by the driver alone.

    spectrum sweep configs/qwen3-4b.yaml --ray --ray-address auto      # every GPU of the cluster
    spectrum sweep configs/tiny.yaml --ray --workers 2                 # a local cluster, 2 CPU actors
    records = run_ray_sweep(config, workers=2)                          # the same from Python

Jobs already complete in the store are never sent; an actor receives a job's stored samples
and returns only the missing ones, which the driver appends (fsync'd, one writer), so a
cluster killed at any moment resumes from the store with at most the jobs in flight lost.
An actor loads its pair once (`evals.sweep.worker.PairWorker`) and keeps the current method's
merger, so prepare runs once per (actor, method) and each lam is one in-place `apply`; the
`AffinityQueue` keeps handing an actor the jobs of the method it already prepared. A job
is the single-process sweep's `evaluate` call itself, so under greedy decoding the records
are identical (same fingerprints, same texts). Schedules and paper_compat travel in the config
(evals.sweep.variants): each actor's worker merges them as the single-process sweep does.
Ray is an optional extra: `pip install '.[ray]'`.

Actor methods run in the actor process's main thread, so math-verify's signal-based
timeouts work there as in the single-process sweep.
On a real cluster every node needs this package and the weights at the same paths (a shared
filesystem or the hub cache); `--ray-working-dir` ships a source tree instead of installing.
"""
from __future__ import annotations

import os
import socket
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm
from transformers.utils import logging as hf_logging

from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.sweep.config import SweepConfig
from evals.sweep.plan import SweepJob, SweepPlan
from evals.sweep.worker import PairWorker


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs Ray: pip install 'thinking-spectrum[ray]'") from None
    return ray


class AffinityQueue:
    """Jobs grouped by (pair, method); a worker keeps draining the group it is on, then opens an
    untouched group (same pair first), then steals from the tail of the largest remaining one."""

    def __init__(self, jobs: list[SweepJob]):
        self._groups: OrderedDict[tuple, deque] = OrderedDict()
        for job in jobs:
            self._groups.setdefault((job.pair, job.method), deque()).append(job)
        self._owned: set[tuple] = set()
        self._current: dict[int, tuple] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._groups.values())

    def next_for(self, worker: int) -> SweepJob | None:
        cur = self._current.get(worker)
        if cur is not None and self._groups[cur]:
            return self._groups[cur].popleft()
        pair = cur[0] if cur is not None else None
        fresh = [g for g, q in self._groups.items() if q and g not in self._owned]
        if fresh:
            group = next((g for g in fresh if g[0] == pair), fresh[0])
            self._owned.add(group)
            self._current[worker] = group
            return self._groups[group].popleft()
        left = [g for g, q in self._groups.items() if q]
        if not left:
            return None
        group = max(left, key=lambda g: (g[0] == pair, len(self._groups[g])))
        self._current[worker] = group
        return self._groups[group].pop()  # the owner keeps working from the front


class JobStore:
    """What `evaluate` sees on an actor: the job's stored records in, the new ones collected."""

    def __init__(self, prior: list[SampleRecord]):
        self._by_key = {r.key(): r for r in prior}
        self.new: list[SampleRecord] = []

    def __contains__(self, key: tuple) -> bool:
        return key in self._by_key

    def get(self, key: tuple) -> SampleRecord | None:
        return self._by_key.get(key)

    def append(self, record: SampleRecord) -> None:
        self._by_key[record.key()] = record
        self.new.append(record)


class SweepActor:
    """Runs jobs on one device; holds one pair at a time (wrapped by `ray.remote` at start)."""

    def __init__(self, config: SweepConfig, threads: int, max_mergers: int = 1):
        torch.set_num_threads(max(1, threads))
        hf_logging.disable_progress_bar()
        self.config, self.max_mergers = config, max_mergers
        self.worker: PairWorker | None = None

    def run(self, job: SweepJob, prior: list[SampleRecord]) -> list[SampleRecord]:
        if self.worker is None or self.worker.pair.name != job.pair:
            if self.worker is not None:
                self.worker.close()
                self.worker = None
            pair = next(p for p in self.config.pairs if p.name == job.pair)
            self.worker = PairWorker(self.config, pair, max_mergers=self.max_mergers)
        store = JobStore(prior)
        self.worker.run(job, store)
        return store.new

    def where(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"


def _uses_gpu(config: SweepConfig) -> bool:
    return config.backend == "vllm" or config.device != "cpu"


def run_ray_sweep(config: SweepConfig, *, address: str | None = None, workers: int | None = None,
                  gpus_per_worker: float | None = None, cpus_per_worker: int = 1, store=None,
                  progress: bool = True, runtime_env: dict | None = None, max_mergers: int = 1,
                  on_job: Callable[[SweepJob, int, list[SampleRecord]], None] | None = None,
                  max_actor_restarts: int = 2) -> list[SampleRecord]:
    """Evaluate every job of `config` on Ray actors (resuming from its results store); returns
    all records in the single-process order. Uses the running Ray session if there is one,
    else `ray.init(address)` (None: a local cluster) and shuts it down at the end."""
    ray = _import_ray()
    if store is None:
        Path(config.results).parent.mkdir(parents=True, exist_ok=True)
        store = ResultsStore(config.results)
    plan = SweepPlan(config)
    pending = plan.pending(store)
    if pending:
        started = not ray.is_initialized()
        if started:
            ray.init(address=address, include_dashboard=False, runtime_env=runtime_env)
        try:
            _drive(ray, config, plan, pending, store, workers, gpus_per_worker, cpus_per_worker, progress,
                   max_mergers, on_job, max_actor_restarts)
        finally:
            if started:
                ray.shutdown()
    return plan.records(store)


def _drive(ray, config, plan, pending, store, workers, gpus_per_worker, cpus_per_worker, progress,
           max_mergers, on_job, max_actor_restarts) -> None:
    gpus = (1.0 if _uses_gpu(config) else 0.0) if gpus_per_worker is None else float(gpus_per_worker)
    if workers is None:
        have = ray.cluster_resources()
        workers = int(have.get("GPU", 0) // gpus) if gpus else int(have.get("CPU", 1) // cpus_per_worker)
    queue = AffinityQueue(pending)
    workers = max(1, min(workers, len(queue)))
    remote = ray.remote(SweepActor).options(num_cpus=cpus_per_worker, num_gpus=gpus)
    actors = [remote.remote(config, cpus_per_worker, max_mergers) for _ in range(workers)]
    by_key = {r.key(): r for r in store.records()}
    inflight: dict = {}
    restarts = 0

    def submit(i: int, job: SweepJob | None = None) -> None:
        job = job or queue.next_for(i)
        if job is not None:
            prior = [by_key[k] for k in plan.keys(job) if k in by_key]
            inflight[actors[i].run.remote(job, prior)] = (i, job)

    bar = tqdm(total=len(queue), disable=not progress, unit="job", desc=f"ray sweep ({workers} workers)")
    try:
        for i in range(workers):
            submit(i)
        while inflight:
            (ref,), _ = ray.wait(list(inflight), num_returns=1)
            i, job = inflight.pop(ref)
            try:
                new = ray.get(ref)
            except ray.exceptions.RayActorError:  # the actor's process or node died: new actor, same job
                restarts += 1
                if restarts > max_actor_restarts:
                    raise
                actors[i] = remote.remote(config, cpus_per_worker, max_mergers)
                submit(i, job)
                continue
            store.extend(new)  # raises if an actor regenerated a stored sample
            by_key.update((r.key(), r) for r in new)
            if on_job is not None:
                on_job(job, i, new)
            bar.update(1)
            bar.set_postfix_str(str(job))
            submit(i)
    finally:
        bar.close()
        for a in actors:
            ray.kill(a)
