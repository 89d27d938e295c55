"""What a lam sweep evaluates: pairs, method labels, lams, benchmarks and sampling, validated.

    config = SweepConfig.from_preset("tiny")          # or SweepConfig.from_yaml("configs/tiny.yaml")
    name, params = parse_method_label("ties(density=0.2)")   # evals.method_labels

A `methods:` entry may be a mapping with a strength schedule and paper_compat (and a top-level
`paper_compat: true` sets every entry's default): see evals.sweep.variants for the form; each
becomes a tagged label ('linear[sched:3f2a9c1b7d0e]', 'ties[paper]'), `schedules` keeps the
definitions by fingerprint.

The first layer of `evals.sweep`: presets (`evals.sweep.presets`) <- config <- plan <- worker
<- drivers (`local`, `ray_driver`). Nothing here loads a model or a benchmark.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from evals.backends.base import SamplingParams
from evals.method_labels import variant_label
from evals.sweep.adaptive_settings import AdaptiveSettings, SequentialSettings
from evals.sweep.config_schema import check_config
from evals.sweep.presets import STUDY, PairSpec, defaults_preset, get_preset, presets
from evals.sweep.variants import check_variants, method_entries
from evals.validation import check_count, check_device, check_lams, check_limit, check_samples, check_seed


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
    adaptive: AdaptiveSettings | None = None  # lams: adaptive (lams then holds the start grid)
    sequential: SequentialSettings | None = None  # samples added only where a verdict can change
    defaults: str = ""  # the preset the unset keys came from (evals.sweep.presets; STUDY for an own pair)
    schedules: Mapping[str, Any] = field(default_factory=dict)  # fingerprint -> merging.schedule.Schedule
    paper_compat: bool = False  # the config's default for its methods (each label says its own: [paper])

    def __post_init__(self) -> None:
        if not self.pairs or not self.methods or not self.lams or not self.benchmarks:
            raise ValueError("a sweep needs at least one pair, method, lam and benchmark")
        # every value is checked here, before any work (a bad seed must not fail after 480 records)
        object.__setattr__(self, "lams", check_lams(self.lams, "lams"))
        object.__setattr__(self, "limit", check_limit(self.limit, "limit"))
        object.__setattr__(self, "batch_size", check_count(self.batch_size, "batch_size", "batch_size"))
        object.__setattr__(self, "seed", check_seed(self.seed, "seed"))
        object.__setattr__(self, "device", check_device(self.device, "device"))
        if self.threads is not None:
            check_count(self.threads, "threads", "threads")
        if not isinstance(self.samples, Mapping) or not isinstance(self.data, Mapping):
            raise ValueError("samples and data are mappings of benchmark name to a value")
        for bench, n in self.samples.items():
            check_samples(n, f"samples: {bench}")
        if self.backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be 'transformers' or 'vllm', got {self.backend!r}")
        check_variants(self.methods, self.schedules, self.backend)
        if len({p.name for p in self.pairs}) != len(self.pairs):
            raise ValueError("pair names must be unique within a sweep")

    def params_for(self, benchmark: str) -> SamplingParams:
        n = self.samples.get(benchmark, self.sampling.n)
        return replace(self.sampling, n=n)

    @classmethod
    def from_preset(cls, name: str, pair: PairSpec | None = None, **overrides) -> "SweepConfig":
        """A preset's settings (`STUDY`: the real study's around `pair`), overridden by `overrides`;
        `paper_compat=True` tags every method [paper]."""
        paper = bool(overrides.pop("paper_compat", None))
        p = defaults_preset(name, pair)
        results = f"results/{name}.jsonl" if name != STUDY else f"results/{p.pair.name}.jsonl"
        fields_ = dict(pairs=(p.pair,), methods=p.methods, lams=p.lams, benchmarks=p.benchmarks,
                       sampling=p.sampling, samples=dict(p.samples_by_benchmark), device=p.device,
                       dtype=p.dtype, batch_size=p.batch_size, threads=p.threads, results=results, defaults=name)
        fields_.update({k: v for k, v in overrides.items() if v is not None})
        if paper:
            fields_["methods"] = tuple(variant_label(m, paper_compat=True) for m in fields_["methods"])
            fields_["paper_compat"] = True
        return cls(**fields_)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SweepConfig":
        """A YAML mapping: `pair:` a preset name, or `pairs:` a list of preset names or
        {name, direct, think, base} mappings; other keys override the defaults (`preset:` names
        them; else the first pair's preset, or `study` for a pair the config names itself)."""
        import yaml

        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read sweep config ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a sweep config is a mapping of keys to values")
        try:
            return cls.from_mapping(raw, where=str(path))
        except (ValueError, TypeError) as exc:  # a value checked deeper down: name the file once
            msg = " ".join(str(exc).split())
            raise ValueError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None

    @classmethod
    def from_mapping(cls, raw: Mapping, where: str = "sweep config") -> "SweepConfig":
        check_config(raw, where)
        raw = dict(raw)
        if not raw.get("pairs") and not raw.get("pair"):  # never the tiny preset by accident
            raise ValueError(f"{where}: no pair; give pair: NAME (a preset: {', '.join(presets())}) or "
                             "pairs: [{name, direct, think, base}]")
        entries = raw.pop("pairs", None) or [raw.pop("pair")]
        raw.pop("pair", None)
        entries = entries if isinstance(entries, list) else [entries]
        pairs = tuple(get_preset(e).pair if isinstance(e, str) else PairSpec(**e) for e in entries)
        named = isinstance(entries[0], str)
        preset = raw.pop("preset", None) or (entries[0] if named else STUDY)
        if preset != STUDY and preset not in presets():
            raise ValueError(f"{where}: preset {preset!r} unknown; choose {STUDY} (the real study's defaults) "
                             f"or one of {', '.join(presets())}")
        base = cls.from_preset(preset, pairs[0])
        if not named:  # a pair the config names itself: its results are named after it
            base = replace(base, results=f"results/{'+'.join(p.name for p in pairs)}.jsonl")
        sampling = base.sampling
        if "sampling" in raw:
            given = raw.pop("sampling")
            known = [f.name for f in fields(SamplingParams)]
            if not isinstance(given, Mapping) or set(given) - set(known):
                raise ValueError(f"{where}: sampling: unknown key(s) "
                                 f"{sorted(set(given) - set(known)) if isinstance(given, Mapping) else given!r}; "
                                 f"allowed: {known}")
            sampling = replace(sampling, **{k: (tuple(v) if k == "stop" else v) for k, v in given.items()})
        if raw.get("lams") == "adaptive":
            raw["adaptive"] = AdaptiveSettings.from_mapping(raw.get("adaptive"), where)
            raw["lams"] = raw["adaptive"].grid()
        elif "adaptive" in raw:
            raise ValueError(f"{where}: an adaptive: section needs lams: adaptive")
        elif "lams" in raw:
            raw["lams"] = check_lams(_as_list(raw["lams"]), f"{where}: lams")
        if "sequential" in raw:
            raw["sequential"] = SequentialSettings.from_mapping(raw["sequential"], where)
            if sampling.temperature <= 0:
                raise ValueError(f"{where}: sequential sampling needs sampling.temperature > 0 (greedy "
                                 f"samples of one problem are identical); drop sequential or set a temperature")
        if "benchmarks" in raw:
            raw["benchmarks"] = tuple(str(x) for x in _as_list(raw["benchmarks"]))
        raw["paper_compat"] = bool(raw.get("paper_compat", False))
        entries = _as_list(raw["methods"]) if "methods" in raw else list(base.methods)
        raw["methods"], raw["schedules"] = method_entries(entries, raw["paper_compat"], where)
        return replace(base, pairs=pairs, sampling=sampling, **raw)

    def describe_defaults(self) -> str:
        """One line: which preset the defaults came from and what they amount to."""
        s = self.sampling
        what = "the real study's" if self.defaults == STUDY else f"preset {self.defaults!r}"
        samples = ", ".join(f"{b}={self.params_for(b).n}" for b in self.benchmarks)
        return (f"defaults: {what} ({', '.join(p.name for p in self.pairs)}): benchmarks {', '.join(self.benchmarks)}; "
                f"T={s.temperature:g} top_p={s.top_p:g} top_k={s.top_k} max_new_tokens={s.max_new_tokens}; "
                f"samples {samples}; device {self.device}, dtype {self.dtype or 'default'}; "
                f"results {self.results}" + ("; paper-compat merges" if self.paper_compat else "")
                + (f"; {len(self.schedules)} strength schedule(s)" if self.schedules else ""))


def _as_list(v) -> list:
    if isinstance(v, str):
        return [s.strip() for s in v.split(",")]
    return list(v) if isinstance(v, (list, tuple)) else [v]
