"""A sweep as jobs: one (pair, method, lam, benchmark, seed) each, planned without loading a
model, skipped when the results store already holds every sample, run on a worker that
loads its pair once and keeps the merge's preparation between lams.

    plan = SweepPlan(config)                     # problems + parents' fingerprints (headers only)
    todo = plan.pending(store)                   # jobs with at least one sample missing
    worker = PairWorker(config, config.pairs[0])
    new = worker.run(todo[0], store)             # the job's records (missing ones generated)

A job is exactly one `evals.runner.evaluate` call of the single-process sweep (same problems,
same order, same batches), so under greedy decoding a job run anywhere gives the same
records. Store keys come from `evals.runner.sample_key`, the runner's own.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Container
from dataclasses import dataclass

from evals.records import SampleRecord
from evals.sweep import SweepConfig, iter_points, merge_fingerprint, parse_method_label


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
    in direct, think, base order, method, parameters, lam, merge seed)."""
    if job.method is None:
        return parent_fps[job.role]
    name, params = parse_method_label(job.method)
    fps = [parent_fps[r] for r in ("direct", "think", "base") if r in parent_fps]
    return merge_fingerprint(fps, name, params, job.lam, merge_seed)


def load_problems(config: SweepConfig) -> dict[str, list]:
    from evals.benchmarks.registry import get_benchmark
    from evals.sweep import _problems

    return {b: _problems(get_benchmark(b), config.data.get(b), config.limit) for b in config.benchmarks}


class SweepPlan:
    """The jobs of a config and the store keys of each, computed without loading any model."""

    def __init__(self, config: SweepConfig, *, problems: dict | None = None, fingerprints: dict | None = None):
        from evals.model_loading import pair_fingerprints

        self.config = config
        self.jobs = plan_jobs(config)
        self.problems = problems if problems is not None else load_problems(config)
        self.fingerprints = fingerprints if fingerprints is not None else {
            p.name: pair_fingerprints(p) for p in config.pairs}

    def fingerprint(self, job: SweepJob) -> str:
        return job_fingerprint(job, self.fingerprints[job.pair], self.config.seed)

    def key_fn(self, job: SweepJob) -> Callable[[str, int], tuple]:
        from evals.benchmarks.registry import get_benchmark
        from evals.runner import sample_key

        return sample_key(get_benchmark(job.benchmark), self.config.params_for(job.benchmark),
                          model_fingerprint=self.fingerprint(job), prompt_mode=self.config.prompt_mode)

    def keys(self, job: SweepJob) -> list[tuple]:
        """Store keys of every sample of the job, in the runner's order (problem, sample index)."""
        key, n = self.key_fn(job), self.config.params_for(job.benchmark).n
        return [key(p.id, i) for p in self.problems[job.benchmark] for i in range(n)]

    def missing(self, job: SweepJob, done: Container[tuple]) -> int:
        from evals.runner import missing_samples

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


class PairWorker:
    """One pair loaded once; runs that pair's jobs, swapping weights only when a job generates.

    Keeps the `max_mergers` most recently used methods' mergers (their prepared states) alive:
    1 bounds memory to one method's states, the single-process sweep's own footprint."""

    def __init__(self, config: SweepConfig, pair, *, problems: dict | None = None, max_mergers: int = 1):
        from evals.model_loading import load_pair

        self.config, self.pair = config, pair
        if config.threads:
            import torch

            # tiny models gain nothing from intra-op threads, and on a busy CPU they lose 10x+
            torch.set_num_threads(config.threads)
        self.loaded = load_pair(pair, device=config.device, dtype=config.dtype, batch_size=config.batch_size,
                                backend=config.backend, engine=dict(config.engine))
        self.problems = problems if problems is not None else load_problems(config)
        self.max_mergers = max(1, max_mergers)
        self._mergers: OrderedDict[str, object] = OrderedDict()

    def fingerprint(self, job: SweepJob) -> str:
        return job_fingerprint(job, self.loaded.fingerprints, self.config.seed)

    def _merger(self, label: str):
        if label in self._mergers:
            self._mergers.move_to_end(label)
            return self._mergers[label]
        while len(self._mergers) >= self.max_mergers:
            self._mergers.popitem(last=False)  # free the oldest method's states first
        name, params = parse_method_label(label)
        merger = self.loaded.merger(name, params, self.config.seed, cache=self.config.merge_cache)
        self._mergers[label] = merger
        return merger

    def _applier(self, job: SweepJob):
        return self.loaded.loader(job.role) if job.method is None else self._merger(job.method)

    def run(self, job: SweepJob, store) -> list[SampleRecord]:
        """All records of `job` (stored ones reused, missing ones generated and appended to `store`)."""
        from evals.benchmarks.registry import get_benchmark
        from evals.runner import evaluate

        if job.pair != self.pair.name:
            raise ValueError(f"job {job} belongs to pair {job.pair!r}; this worker holds {self.pair.name!r}")
        proxy = _LazyPoint(self.loaded.backend, job.point, lambda: self._applier(job), job.lam, self.loaded.state)
        tokenizer = self.loaded.tokenizers[job.role or self.pair.template_from]
        return evaluate(proxy, tokenizer, get_benchmark(job.benchmark), self.problems[job.benchmark],
                        self.config.params_for(job.benchmark), store=store, model=job.model_label,
                        model_fingerprint=self.fingerprint(job), pair=self.pair.name, method=job.method,
                        lam=job.lam, prompt_mode=self.config.prompt_mode, progress=False)

    def close(self) -> None:
        self._mergers.clear()
        self.loaded.close()


class _LazyPoint:
    """A backend proxy that writes the job's point into the model on the first generate call
    (not at all when every sample is stored; once for all jobs of one point)."""

    def __init__(self, backend, point: tuple, applier: Callable[[], object], lam: float, state: dict):
        self._backend, self._point, self._applier, self._lam, self._state = backend, point, applier, lam, state
        self.batch_size = backend.batch_size
        self.name = backend.name
        self.supports_sample_indices = getattr(backend, "supports_sample_indices", False)

    def generate(self, prompts, params, **kwargs):
        if self._state.get("applied") != self._point:
            self._state.pop("applied", None)  # a failed apply leaves the model in no known point
            self._applier().apply(self._lam)
            self._state["applied"] = self._point
        return self._backend.generate(prompts, params, **kwargs)
