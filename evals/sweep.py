"""A lam sweep: every (pair, method, lam, benchmark) point evaluated into one results store.

    config = SweepConfig.from_preset("tiny")          # or SweepConfig.from_yaml("configs/tiny.yaml")
    records = run_sweep(config)                       # resumes from config.results

One model is loaded per pair and merged in place for each point (merging.inplace), so a
sweep touches the disk only to read the parents once. Parents are evaluated as plain
checkpoints (method None, lam 0 / 1) with their own chat templates; merges use the
template of `pair.template_from`. Points whose samples are all stored are skipped without
merging (the merge is applied lazily on the first generate call).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from evals.backends.base import SamplingParams
from evals.pairs import PairSpec, get_preset
from evals.records import SampleRecord

SWEEP_VERSION = "1"


def parse_method_label(label: str) -> tuple[str, dict]:
    """'ties(density=0.2)' -> ('ties', {'density': 0.2}), validated against the registry."""
    from merging.registry import get_method

    name, _, rest = label.partition("(")
    name = name.strip()
    items: list[str] = []
    if rest:
        if not rest.endswith(")"):
            raise ValueError(f"method label {label!r}: expected NAME or NAME(k=v, ...)")
        items = [s.strip() for s in rest[:-1].split(",") if s.strip()]
    return name, get_method(name).validate_params(items)


@dataclass(frozen=True)
class SweepConfig:
    pairs: tuple[PairSpec, ...]
    methods: tuple[str, ...]
    lams: tuple[float, ...]
    benchmarks: tuple[str, ...]
    sampling: SamplingParams
    samples: Mapping[str, int] = field(default_factory=dict)  # benchmark -> n (else sampling.n)
    data: Mapping[str, str] = field(default_factory=dict)  # benchmark -> local file/dir
    limit: int | None = None  # first N problems of each benchmark (smoke runs)
    prompt_mode: str = "chat_template"
    backend: str = "transformers"
    device: str = "cpu"
    dtype: str | None = None
    batch_size: int = 64
    threads: int | None = None  # torch CPU threads while sweeping (None: torch's default)
    seed: int = 0  # merge seed (DARE); sampling seed lives in `sampling`
    results: str = "results/sweep.jsonl"
    engine: Mapping[str, Any] = field(default_factory=dict)  # vllm.LLM kwargs (+ parents: device|host|auto)
    merge_cache: bool | None = None  # keep prepared merge states between lams; None: when they fit

    def __post_init__(self) -> None:
        if not self.pairs or not self.methods or not self.lams or not self.benchmarks:
            raise ValueError("a sweep needs at least one pair, method, lam and benchmark")
        for lam in self.lams:
            if not 0.0 <= lam <= 1.0:
                raise ValueError(f"lam {lam} outside [0, 1]; the suite sweeps interpolations only")
        if self.backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be 'transformers' or 'vllm', got {self.backend!r}")
        for label in self.methods:
            parse_method_label(label)
        if len({p.name for p in self.pairs}) != len(self.pairs):
            raise ValueError("pair names must be unique within a sweep")

    def params_for(self, benchmark: str) -> SamplingParams:
        n = self.samples.get(benchmark, self.sampling.n)
        return replace(self.sampling, n=n)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "SweepConfig":
        p = get_preset(name)
        fields_ = dict(pairs=(p.pair,), methods=p.methods, lams=p.lams, benchmarks=p.benchmarks,
                       sampling=p.sampling, samples=dict(p.samples_by_benchmark), device=p.device,
                       dtype=p.dtype, batch_size=p.batch_size, threads=p.threads, results=f"results/{name}.jsonl")
        fields_.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**fields_)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SweepConfig":
        """A YAML mapping: `pair:` a preset name, or `pairs:` a list of preset names or
        {name, direct, think, base} mappings; other keys override the first preset's."""
        import yaml

        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read sweep config ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a sweep config is a mapping of keys to values")
        return cls.from_mapping(raw, where=str(path))

    @classmethod
    def from_mapping(cls, raw: Mapping, where: str = "sweep config") -> "SweepConfig":
        raw = dict(raw)
        allowed = {"pair", "pairs", "methods", "lams", "benchmarks", "sampling", "samples", "data",
                   "limit", "prompt_mode", "backend", "device", "dtype", "batch_size", "threads", "seed", "results",
                   "engine", "merge_cache"}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        entries = raw.pop("pairs", None) or [raw.pop("pair", "tiny")]
        raw.pop("pair", None)
        pairs = []
        for e in entries if isinstance(entries, list) else [entries]:
            if isinstance(e, str):
                pairs.append(get_preset(e).pair)
            elif isinstance(e, dict) and {"name", "direct", "think"} <= set(e):
                pairs.append(PairSpec(**e))
            else:
                raise ValueError(f"{where}: a pair is a preset name or a mapping with name, direct, "
                                 f"think (and base), got {e!r}")
        first = entries[0] if isinstance(entries, list) and isinstance(entries[0], str) else "tiny"
        base = cls.from_preset(first)
        sampling = base.sampling
        if "sampling" in raw:
            sampling = replace(sampling, **{k: (tuple(v) if k == "stop" else v)
                                            for k, v in dict(raw.pop("sampling")).items()})
        if "lams" in raw:
            raw["lams"] = tuple(float(x) for x in _as_list(raw["lams"]))
        for key in ("methods", "benchmarks"):
            if key in raw:
                raw[key] = tuple(str(x) for x in _as_list(raw[key]))
        return replace(base, pairs=tuple(pairs), sampling=sampling, **raw)


def _as_list(v) -> list:
    return [s.strip() for s in v.split(",")] if isinstance(v, str) else list(v)


def merge_fingerprint(parent_fps: Sequence[str], method: str, params: dict, lam: float, seed: int) -> str:
    """Identity of one merged model: parents, method (with its numerics revision), parameters,
    lam and seed."""
    from merging.registry import get_method

    revision = get_method(method).revision
    blob = json.dumps([SWEEP_VERSION, list(parent_fps), method, revision, params, round(lam, 6), seed],
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def iter_points(config: SweepConfig) -> Iterator[tuple[PairSpec, str | None, float]]:
    """(pair, method label or None for a parent, lam) in evaluation order."""
    for pair in config.pairs:
        yield pair, None, 0.0
        yield pair, None, 1.0
        for label in config.methods:
            for lam in config.lams:
                yield pair, label, lam


def run_sweep(config: SweepConfig, *, store=None, progress: bool = True) -> list[SampleRecord]:
    """Evaluate every point of `config` (resuming from its results store); returns all records."""
    from evals.store import ResultsStore

    store = store if store is not None else ResultsStore(_ensure_parent(config.results))
    out: list[SampleRecord] = []
    for pair in config.pairs:
        out.extend(_run_pair(config, pair, store, progress))
    return out


def _ensure_parent(path: str) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def _run_pair(config: SweepConfig, pair: PairSpec, store, progress: bool) -> list[SampleRecord]:
    from evals.sweep_jobs import PairWorker, SweepPlan, load_problems

    problems = load_problems(config)
    plan = SweepPlan(config, problems=problems)
    jobs = [j for j in plan.jobs if j.pair == pair.name]
    if not any(plan.missing(j, store) for j in jobs):  # all stored: no model to load
        return [store.get(k) for j in jobs for k in plan.keys(j)]
    import torch

    threads_before = torch.get_num_threads()
    try:
        worker = PairWorker(config, pair, problems=problems)
        return _run_jobs(config, pair, worker, jobs, store, progress)
    finally:
        torch.set_num_threads(threads_before)


def _run_jobs(config: SweepConfig, pair: PairSpec, worker, jobs, store, progress: bool) -> list[SampleRecord]:
    from tqdm import tqdm

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


def _needs_base(method: str) -> bool:
    from merging.registry import get_method

    return get_method(method).needs_base


def _problems(bench, data: str | None, limit: int | None):
    problems = bench.load(data)
    if not problems:
        raise ValueError(f"benchmark {bench.name}: no problems loaded from {data or 'its default source'}")
    return problems[:limit] if limit else problems
