"""A worker: one pair loaded once, running that pair's jobs and swapping weights only when a
job generates; keeps the merge's preparation between lams. A tagged method label
(evals.sweep.variants) merges with its schedule and paper_compat, and its records carry
`meta["merge"]` (evals.records.MERGE_META).

    worker = PairWorker(config, config.pairs[0])
    new = worker.run(job, store)             # the job's records (missing ones generated)
"""
from __future__ import annotations

from collections import OrderedDict

import torch

from evals.backends.vllm_settings import longest_prompt_tokens
from evals.benchmarks.registry import get_benchmark
from evals.identity import planned_dtype
from evals.records import MERGE_META, SampleRecord
from evals.runner import evaluate
from evals.method_labels import method_variant, parse_method_label
from evals.prompting import render_prompt
from evals.sweep.config import SweepConfig
from evals.sweep.loading import load_pair
from evals.sweep.plan import SweepJob, job_fingerprint, load_problems
from evals.sweep.variants import merge_meta, pair_schedules


def prompt_sizing(config: SweepConfig, problems: dict):
    """tokenizers -> (tokens of the longest prompt any parent's template renders, the largest
    max_new_tokens): what one sequence of this sweep can need (vLLM's max_model_len)."""
    def sizing(tokenizers: dict) -> tuple[int, int]:
        longest = max(longest_prompt_tokens(tok, [render_prompt(tok, p, get_benchmark(b), config.prompt_mode)
                                                  for b in config.benchmarks for p in problems[b]])
                      for tok in tokenizers.values())
        return longest, max(config.params_for(b).max_new_tokens for b in config.benchmarks)

    return sizing


class PairWorker:
    """One pair loaded once; runs that pair's jobs, swapping weights only when a job generates.

    Keeps the `max_mergers` most recently used methods' mergers (their prepared states) alive:
    1 bounds memory to one method's states, the single-process sweep's own footprint."""

    def __init__(self, config: SweepConfig, pair, *, problems: dict | None = None, max_mergers: int = 1):
        self.config, self.pair = config, pair
        if config.threads:
            # tiny models gain nothing from intra-op threads, and on a busy CPU they lose 10x+
            torch.set_num_threads(config.threads)
        self.problems = problems if problems is not None else load_problems(config)
        self.schedules = pair_schedules(config, pair)  # checked before the model loads
        self.loaded = load_pair(pair, device=config.device, dtype=config.dtype, batch_size=config.batch_size,
                                backend=config.backend, engine=dict(config.engine),
                                sizing=prompt_sizing(config, self.problems))
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
        variant = method_variant(label)
        extra = {} if variant.plain else {  # a plain merge's call is unchanged (the vLLM pair's too)
            "strength": self.schedules[variant.schedule] if variant.schedule else None,
            "paper_compat": variant.paper_compat}
        merger = self.loaded.merger(name, params, self.config.seed, cache=self.config.merge_cache, **extra)
        self._mergers[label] = merger
        return merger

    def _applier(self, job: SweepJob):
        return self.loaded.loader(job.role) if job.method is None else self._merger(job.method)

    def _hold_point(self, job: SweepJob) -> None:
        """Write the job's point into the live model unless it holds it already (once for all
        jobs of one point; not at all when every sample is stored)."""
        state = self.loaded.state
        if state.get("applied") != job.point:
            state.pop("applied", None)  # a failed apply leaves the model in no known point
            self._applier(job).apply(job.lam)
            state["applied"] = job.point

    def run(self, job: SweepJob, store) -> list[SampleRecord]:
        """All records of `job` (stored ones reused, missing ones generated and appended to `store`)."""
        if job.pair != self.pair.name:
            raise ValueError(f"job {job} belongs to pair {job.pair!r}; this worker holds {self.pair.name!r}")
        tokenizer = self.loaded.tokenizers[job.role or self.pair.template_from]
        meta = merge_meta(self.config, job.method) if job.method is not None else None
        return evaluate(self.loaded.backend, tokenizer, get_benchmark(job.benchmark), self.problems[job.benchmark],
                        self.config.params_for(job.benchmark), store=store, model=job.model_label,
                        model_fingerprint=self.fingerprint(job), pair=self.pair.name, method=job.method,
                        lam=job.lam, prompt_mode=self.config.prompt_mode, progress=False,
                        backend_name=self.config.backend, dtype=planned_dtype(self.config.backend, self.config.dtype),
                        before_generate=lambda: self._hold_point(job),
                        record_meta=None if meta is None else {MERGE_META: meta})

    def close(self) -> None:
        self._mergers.clear()
        self.loaded.close()

