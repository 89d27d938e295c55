"""The one generation interface every backend implements.

`Backend.generate(prompts, params)` takes already-rendered prompt strings (chat template
applied by `evals.prompting`) and returns, for each prompt, `params.n` completions with
their text, generated token ids and finish reason. Token cost is always counted from
`token_ids`, never by re-encoding text.
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Mapping, Protocol, Sequence, runtime_checkable

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by all backends (names follow vLLM's)."""

    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 or -1 means disabled
    max_new_tokens: int = 256
    n: int = 1  # samples per prompt
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("temperature", "top_p", "top_k", "max_new_tokens", "n", "seed"):
            value = getattr(self, name)
            whole = name not in ("temperature", "top_p")
            if isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real):
                raise ValueError(f"sampling {name} must be {'a whole number' if whole else 'a number'}, "
                                 f"got {value!r}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True)
class Completion:
    """One generated sample."""

    text: str
    token_ids: tuple[int, ...]
    finish_reason: FinishReason
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


@runtime_checkable
class Backend(Protocol):
    """A text generator: everything the runner calls on a backend.

    `generate` returns one list of `params.n` completions per prompt; with
    `supports_sample_indices`, `generate(..., sample_indices=[[i, ...], ...])` makes only the
    listed samples of each prompt (a resumed run regenerates nothing it has). The runner sends
    at most `batch_size` samples per call."""

    name: str
    batch_size: int
    supports_sample_indices: bool

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]: ...


@runtime_checkable
class LiveBackend(Backend, Protocol):
    """A backend over one live in-process model that a sweep rewrites in place: `model` is the
    torch module (`merging.inplace.InPlaceMerger` writes theta(lam) into it), `load_weights`
    copies a parent's named tensors in (returns how many)."""

    model: Any

    def load_weights(self, named_tensors: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> int: ...
