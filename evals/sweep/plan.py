"""A sweep as jobs: one (pair, method, lam, benchmark, seed) each, planned without loading a
model and skipped when the results store already holds every sample; merge fingerprints and
the order of points.

    plan = SweepPlan(config)                     # problems + parents' fingerprints (headers only)
    todo = plan.pending(store)                   # jobs with at least one sample missing
    new = PairWorker(config, config.pairs[0]).run(todo[0], store)   # evals.sweep.worker

A job is exactly one `evals.runner.evaluate` call of the single-process sweep (same problems,
same order, same batches), so under greedy decoding a job run anywhere gives the same
records. Store keys come from `evals.runner.sample_key`, the runner's own.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass

from transformers import AutoTokenizer

from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.identity import planned_dtype
from evals.records import SampleRecord
from evals.runner import missing_samples, sample_key
from evals.method_labels import method_variant, parse_method_label
from evals.sweep.config import SweepConfig
from evals.sweep.presets import PairSpec
from evals.sweep.variants import pair_schedules
from evals.sweep.weights import pair_dirs, pair_fingerprints
from merging import registry

SWEEP_VERSION = "1"


def merge_fingerprint(parent_fps: Sequence[str], method: str, params: dict, lam: float, seed: int,
                      schedule: str | None = None, paper_compat: bool = False) -> str:
    """Identity of one merged model: parents, method (with its numerics revision), parameters,
    lam and seed, and (only when given, so plain merges keep their fingerprints) the strength
    schedule's fingerprint and paper_compat."""
    revision = registry.get_method(method).revision
    parts = [SWEEP_VERSION, list(parent_fps), method, revision, params, round(lam, 6), seed]
    if schedule is not None or paper_compat:
        parts.append({"schedule": schedule, "paper_compat": bool(paper_compat)})
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def iter_points(config: SweepConfig) -> Iterator[tuple[PairSpec, str | None, float]]:
    """(pair, method label or None for a parent, lam) in evaluation order."""
    for pair in config.pairs:
        yield pair, None, 0.0
        yield pair, None, 1.0
        for label in config.methods:
            for lam in config.lams:
                yield pair, label, lam


def needs_base(method: str) -> bool:
    """Whether `method` (a registry name) merges task vectors against a base."""
    return registry.get_method(method).needs_base


def load_benchmark_problems(bench, data: str | None, limit: int | None):
    """The first `limit` problems of `bench` (all when None) from `data` or its default source."""
    problems = bench.load(data)
    if not problems:
        raise ValueError(f"benchmark {bench.name}: no problems loaded from {data or 'its default source'}")
    return problems[:limit] if limit else problems


@dataclass(frozen=True)
class SweepJob:
    pair: str
    method: str | None  # method label, e.g. "ties(density=0.2)"; None: a parent checkpoint
    lam: float  # thinking weight; a parent is 0.0 (direct) or 1.0 (think)
    benchmark: str
    seed: int  # sampling seed

    @property
    def role(self) -> str | None:
        """The parent this job evaluates ('direct' or 'think'), None for a merge."""
        if self.method is not None:
            return None
        return "direct" if self.lam == 0.0 else "think"

    @property
    def point(self) -> tuple[str | None, float]:
        """What the model must hold for this job (jobs of one point share a weight swap)."""
        return self.method, self.lam

    @property
    def model_label(self) -> str:
        return f"{self.pair}/{self.role}" if self.method is None else f"{self.pair}/{self.method}@{self.lam:g}"

    def __str__(self) -> str:
        return f"{self.model_label} {self.benchmark} seed={self.seed}"


def plan_jobs(config: SweepConfig) -> list[SweepJob]:
    """Every job of `config`, in the single-process sweep's order (points, then benchmarks)."""
    return [SweepJob(pair.name, label, float(lam), bench, config.params_for(bench).seed)
            for pair, label, lam in iter_points(config) for bench in config.benchmarks]


def job_fingerprint(job: SweepJob, parent_fps: dict[str, str], merge_seed: int) -> str:
    """The model fingerprint its records carry: the parent's, or the merge's (parents' fingerprints
    in direct, think, base order, method, parameters, lam, merge seed; the label's schedule and
    paper_compat tags)."""
    if job.method is None:
        return parent_fps[job.role]
    name, params = parse_method_label(job.method)
    variant = method_variant(job.method)
    fps = [parent_fps[r] for r in ("direct", "think", "base") if r in parent_fps]
    return merge_fingerprint(fps, name, params, job.lam, merge_seed, variant.schedule, variant.paper_compat)


def load_problems(config: SweepConfig) -> dict[str, list]:
    return {b: load_benchmark_problems(get_benchmark(b), config.data.get(b), config.limit) for b in config.benchmarks}


class SweepPlan:
    """The jobs of a config and the store keys of each, computed without loading any model."""

    def __init__(self, config: SweepConfig, *, problems: dict | None = None, fingerprints: dict | None = None,
                 tokenizers: dict | None = None):
        self.config = config
        self._tokenizers = dict(tokenizers or {})  # pair -> role -> tokenizer (loaded when first needed)
        self.jobs = plan_jobs(config)
        self.problems = problems if problems is not None else load_problems(config)
        self.fingerprints = fingerprints if fingerprints is not None else {
            p.name: pair_fingerprints(p) for p in config.pairs}
        for pair in config.pairs if config.schedules else ():  # a bad rule fails here, before any work
            pair_schedules(config, pair)

    def fingerprint(self, job: SweepJob) -> str:
        return job_fingerprint(job, self.fingerprints[job.pair], self.config.seed)

    def tokenizer(self, job: SweepJob):
        """The tokenizer the job's prompts are rendered with (the worker's: the parent's own, the
        pair's `template_from` for a merge); read from the checkpoint folder, no weights."""
        pair = next(p for p in self.config.pairs if p.name == job.pair)
        role = job.role or pair.template_from
        by_role = self._tokenizers.setdefault(job.pair, {})
        if role not in by_role:
            by_role[role] = AutoTokenizer.from_pretrained(str(pair_dirs(pair, False)[role]))
        return by_role[role]

    def key_fn(self, job: SweepJob) -> Callable[[Problem, int], tuple]:
        return sample_key(get_benchmark(job.benchmark), self.config.params_for(job.benchmark),
                          model_fingerprint=self.fingerprint(job), prompt_mode=self.config.prompt_mode,
                          tokenizer=self.tokenizer(job), backend=self.config.backend,
                          dtype=planned_dtype(self.config.backend, self.config.dtype))

    def keys(self, job: SweepJob) -> list[tuple]:
        """Store keys of every sample of the job, in the runner's order (problem, sample index)."""
        key, n = self.key_fn(job), self.config.params_for(job.benchmark).n
        return [key(p, i) for p in self.problems[job.benchmark] for i in range(n)]

    def missing(self, job: SweepJob, done: Container[tuple]) -> int:
        todo = missing_samples(done, self.problems[job.benchmark], self.config.params_for(job.benchmark).n,
                               self.key_fn(job))
        return sum(len(ix) for _, ix in todo)

    def pending(self, store) -> list[SweepJob]:
        """Jobs with at least one sample not in `store` (a ResultsStore or any key container)."""
        done = store.keys() if hasattr(store, "keys") else store
        return [j for j in self.jobs if self.missing(j, done)]

    def records(self, store) -> list[SampleRecord]:
        """Every job's records from `store`, in plan order; KeyError if one is missing."""
        keys = [k for job in self.jobs for k in self.keys(job)]
        absent = next((k for k in keys if k not in store), None)
        if absent is not None:
            raise KeyError(absent)
        return [store.get(k) for k in keys]
