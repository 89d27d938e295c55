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
from typing import Iterator, Mapping, Sequence

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
    seed: int = 0  # merge seed (DARE); sampling seed lives in `sampling`
    results: str = "results/sweep.jsonl"

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
                       dtype=p.dtype, batch_size=p.batch_size, results=f"results/{name}.jsonl")
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
                   "limit", "prompt_mode", "backend", "device", "dtype", "batch_size", "seed", "results"}
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
    blob = json.dumps([SWEEP_VERSION, list(parent_fps), method, params, round(lam, 6), seed], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class _LazyMerge:
    """A backend proxy that writes theta(lam) into the model on the first generate call,
    so a point whose samples are all stored costs no merge."""

    def __init__(self, backend, merger, lam: float, state: dict):
        self._backend, self._merger, self._lam, self._state = backend, merger, lam, state
        self.batch_size = backend.batch_size
        self.name = backend.name
        self.supports_sample_indices = getattr(backend, "supports_sample_indices", False)

    def generate(self, prompts, params, **kwargs):
        if self._state.get("applied") is not self:
            self._merger.apply(self._lam)
            self._state["applied"] = self
        return self._backend.generate(prompts, params, **kwargs)


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
    from tqdm import tqdm

    from evals.benchmarks.registry import get_benchmark
    from evals.model_loading import load_pair
    from evals.runner import evaluate
    from merging.inplace import InPlaceMerger

    loaded = load_pair(pair, device=config.device, dtype=config.dtype, batch_size=config.batch_size,
                       backend=config.backend)
    benches = [(get_benchmark(b), b) for b in config.benchmarks]
    problems = {name: _problems(b, config.data.get(name), config.limit) for b, name in benches}
    records: list[SampleRecord] = []
    total = 2 + len(config.methods) * len(config.lams)
    bar = tqdm(total=total, disable=not progress, unit="point", desc=f"sweep {pair.name}")

    def run_point(backend, tokenizer, fp, label, method, lam):
        for bench, name in benches:
            records.extend(evaluate(backend, tokenizer, bench, problems[name], config.params_for(name),
                                    store=store, model=label, model_fingerprint=fp, pair=pair.name,
                                    method=method, lam=lam, prompt_mode=config.prompt_mode, progress=False))
        bar.update(1)

    for role, lam in (("direct", 0.0), ("think", 1.0)):
        proxy = _LazyMerge(loaded.backend, loaded.loader(role), lam, loaded.state)
        run_point(proxy, loaded.tokenizers[role], loaded.fingerprints[role], f"{pair.name}/{role}", None, lam)
    parent_fps = [loaded.fingerprints[r] for r in ("direct", "think", "base") if r in loaded.fingerprints]
    for label in config.methods:
        name, params = parse_method_label(label)
        merger = None
        for lam in config.lams:
            fp = merge_fingerprint(parent_fps, name, params, lam, config.seed)
            if merger is None:
                merger = _Deferred(lambda: InPlaceMerger(
                    loaded.backend.model, loaded.sd["direct"], loaded.sd["think"],
                    loaded.sd.get("base") if _needs_base(name) else None,
                    method=name, params=params, seed=config.seed))
            proxy = _LazyMerge(loaded.backend, merger, lam, loaded.state)
            run_point(proxy, loaded.tokenizers[pair.template_from], fp, f"{pair.name}/{label}@{lam:g}",
                      label, lam)
        bar.set_postfix(method=label)
    bar.close()
    loaded.close()
    return records


class _Deferred:
    """Builds the merger (its lam-independent preparation can be costly) on first use."""

    def __init__(self, build):
        self._build, self._obj = build, None

    def apply(self, lam: float) -> None:
        if self._obj is None:
            self._obj = self._build()
        self._obj.apply(lam)


def _needs_base(method: str) -> bool:
    from merging.registry import get_method

    return get_method(method).needs_base


def _problems(bench, data: str | None, limit: int | None):
    problems = bench.load(data)
    if not problems:
        raise ValueError(f"benchmark {bench.name}: no problems loaded from {data or 'its default source'}")
    return problems[:limit] if limit else problems
