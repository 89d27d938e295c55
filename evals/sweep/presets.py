"""Named model pairs and their study defaults: the tiny CPU fixture and the real Qwen3 trios.

A preset says where the parents (and the base that task-vector methods need) come from
and how the paper evaluated them. `spectrum sweep CONFIG.yaml` and the claim suite's
pytest options start from a preset and override what the user names. Real weights are
hub ids here; any of them may be replaced by a local directory.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from evals.backends.base import SamplingParams

# The seven methods of the paper plus the sparse variants the sparse-degradation claim
# needs: DARE at the paper's p=0.2 and at a high drop rate, TIES without trimming (as the
# paper ran it: its density 80 means "keep all") and at low density.
STUDY_METHODS: tuple[str, ...] = (
    "linear", "slerp", "dare", "dare(p=0.9)", "ties", "ties(density=0.2)", "emr", "lore", "twin",
)
GRID_11: tuple[float, ...] = tuple(round(i / 10, 2) for i in range(11))


@dataclass(frozen=True)
class PairSpec:
    """Where a thinking/direct pair comes from (hub ids or local directories)."""

    name: str
    direct: str
    think: str
    base: str | None = None
    # whose tokenizer / chat template the merged model is evaluated with (parents always use their own)
    template_from: str = "think"

    def __post_init__(self) -> None:
        if self.template_from not in ("direct", "think"):
            raise ValueError(f"pair {self.name!r}: template_from must be 'direct' or 'think', "
                             f"got {self.template_from!r}")

    def with_paths(self, direct: str | None = None, think: str | None = None,
                   base: str | None = None) -> "PairSpec":
        return replace(self, direct=direct or self.direct, think=think or self.think,
                       base=base or self.base)


@dataclass(frozen=True)
class PairPreset:
    """A pair with the study settings the paper (or the fixture) uses for it."""

    pair: PairSpec
    benchmarks: tuple[str, ...]
    sampling: SamplingParams
    methods: tuple[str, ...] = STUDY_METHODS
    lams: tuple[float, ...] = GRID_11
    device: str = "cpu"
    dtype: str | None = None
    batch_size: int = 64
    threads: int | None = None  # torch CPU threads while sweeping
    marker: str = "fast"  # the pytest marker its claim tests carry
    samples_by_benchmark: dict = field(default_factory=dict)


def tiny_dir() -> Path:
    """The shipped tiny pair (fixtures/tiny/{base,direct,think})."""
    return Path(str(resources.files("fixtures") / "tiny"))


def _tiny() -> PairPreset:
    d = tiny_dir()
    return PairPreset(
        pair=PairSpec("tiny", str(d / "direct"), str(d / "think"), str(d / "base")),
        benchmarks=("synthetic",),
        sampling=SamplingParams(temperature=0.0, max_new_tokens=48, n=1, seed=0),
        device="cpu", batch_size=512, threads=1, marker="fast",
    )


def _overthink() -> PairPreset:
    """The over-thinking tiny pair (fixtures/overthink.py); its benchmark file is
    fixtures/overthink/bench.jsonl (give it as `data: {synthetic: ...}`, see configs/overthink.yaml)."""
    d = tiny_dir().parent / "overthink"
    return replace(_tiny(), pair=PairSpec("overthink", str(d / "direct"), str(d / "think"), str(d / "base")),
                   sampling=SamplingParams(temperature=0.0, max_new_tokens=64, n=1, seed=0))


# The paper's one setting for every merge: T=0.6, top_p 0.95, max 39512 new tokens;
# 10 samples for AIME-type benchmarks, 2 for GPQA (RESEARCH.md). top_k 20 is Qwen3's own.
_PAPER_SAMPLING = SamplingParams(temperature=0.6, top_p=0.95, top_k=20, max_new_tokens=39512, n=10, seed=0)
_PAPER_SAMPLES = {"aime24": 10, "aime25": 10, "hmmt25": 10, "gpqa_diamond": 2, "creative_writing": 3}


def _qwen(name: str, size: str, base: str) -> PairPreset:
    return PairPreset(
        pair=PairSpec(name, f"Qwen/Qwen3-{size}-Instruct-2507", f"Qwen/Qwen3-{size}-Thinking-2507", base),
        benchmarks=("aime24", "aime25", "hmmt25", "gpqa_diamond"),
        sampling=_PAPER_SAMPLING, device="cuda", dtype="bfloat16", batch_size=8, marker="gpu",
        samples_by_benchmark=dict(_PAPER_SAMPLES),
    )


# The defaults of a config that names its own pair (`pairs: [{name, direct, think, base}]`)
# without `preset:`: the real study's (the paper's benchmarks, sampling and samples, CUDA, bf16).
STUDY = "study"


def study_preset(pair: PairSpec) -> PairPreset:
    """The real-study defaults around `pair`."""
    return replace(_qwen(pair.name, "4B", None), pair=pair)


def defaults_preset(name: str, pair: PairSpec | None = None) -> PairPreset:
    """The preset a config's defaults come from: a named pair preset, or STUDY around `pair`."""
    if name == STUDY:
        if pair is None:
            raise ValueError("the study defaults need a pair (name, direct, think, base)")
        return study_preset(pair)
    return get_preset(name)


def presets() -> dict[str, PairPreset]:
    return {
        "tiny": _tiny(),
        "overthink": _overthink(),
        "qwen3-4b": _qwen("qwen3-4b", "4B", "Qwen/Qwen3-4B"),
        "qwen3-30b-a3b": _qwen("qwen3-30b-a3b", "30B-A3B", "Qwen/Qwen3-30B-A3B"),
    }


def get_preset(name: str) -> PairPreset:
    known = presets()
    if name not in known:
        raise ValueError(f"unknown pair {name!r}; known presets: {', '.join(known)} "
                         "(or give direct/think/base paths in a sweep config)")
    return known[name]
