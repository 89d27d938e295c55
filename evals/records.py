"""The per-sample record: the unit of the results store and of every analysis.

One record per generated sample, appended as one JSON line. Token counts come from the
generated token ids. `truncated` outputs (finish_reason == "length": the output hit the
token cap) are counted wrong, whatever they wrote.

Every record is checked against a schema when it is built (so on write) and when it is read
(`from_json`): types and ranges (`correct` true, false or null; token counts ints >= 0; lam
finite or null; indices and seeds ints). A bad value raises RecordError naming the field;
the store adds the file and line.

`meta` holds what describes a sample beyond its identity (never part of its key). A merge
with a strength schedule or the paper's quirks (evals.sweep.variants) records them under
`meta[MERGE_META]`: {"paper_compat": bool, "schedule": {"fingerprint", "label"}} (the
schedule only when there is one); its identity is in the model fingerprint and the label.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields


class RecordError(ValueError):
    """A record whose fields break the schema (the message names the field)."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_STR = ("model", "model_fingerprint", "pair", "benchmark", "benchmark_version", "problem_id", "prompt_mode",
        "text", "finish_reason")
_OPT_STR = ("method", "extracted")
_COUNTS = ("sample_index", "generated_tokens", "reasoning_tokens", "answer_tokens")
_BOOL = ("truncated", "malformed")
_DICT = ("sampling", "meta")
MERGE_META = "merge"  # meta key of a merge's schedule and paper_compat (see the docstring)


# fields added after stores existed: a line without them reads with the default (an old
# record, whose identity fields are None, is then never reused: see evals.identity)
OPTIONAL_FIELDS = frozenset({"meta", "split_known", "backend", "dtype", "tokenizer_hash", "prompt_hash",
                             "problem_hash"})


def check_record(rec: "SampleRecord") -> None:
    """Raise RecordError naming the first field whose type or range is wrong."""
    def bad(name: str, want: str):
        raise RecordError(f"field {name!r}: expected {want}, got {getattr(rec, name)!r}")

    for name in _STR:
        if not isinstance(getattr(rec, name), str):
            bad(name, "a string")
    for name in _OPT_STR:
        if getattr(rec, name) is not None and not isinstance(getattr(rec, name), str):
            bad(name, "a string or null")
    for name in _COUNTS:
        if not _is_int(getattr(rec, name)) or getattr(rec, name) < 0:
            bad(name, "an integer >= 0")
    if not _is_int(rec.seed):
        bad("seed", "an integer")
    for name in _BOOL:
        if not isinstance(getattr(rec, name), bool):
            bad(name, "true or false")
    if rec.correct is not None and not isinstance(rec.correct, bool):
        bad("correct", "true, false or null")
    for name in _DICT:
        if not isinstance(getattr(rec, name), dict):
            bad(name, "an object")
    lam = rec.lam
    if lam is not None and (isinstance(lam, bool) or not isinstance(lam, (int, float)) or not math.isfinite(lam)):
        bad("lam", "a finite number or null")


@dataclass(frozen=True)
class SampleRecord:
    # what was evaluated
    model: str  # human label, e.g. "tiny/linear@0.6" or a path
    model_fingerprint: str  # content hash of weights (or of (parents, method, lam, params))
    pair: str  # e.g. "tiny", "qwen3-4b"
    method: str | None  # merge method, None for a plain checkpoint
    lam: float | None  # thinking weight, None for a plain checkpoint
    benchmark: str
    benchmark_version: str
    problem_id: str
    sample_index: int
    # how
    prompt_mode: str  # "chat_template" | "chatml_system"
    sampling: dict  # SamplingParams.to_dict()
    seed: int
    # what came out
    text: str
    generated_tokens: int
    reasoning_tokens: int
    answer_tokens: int
    finish_reason: str
    truncated: bool
    malformed: bool
    correct: bool | None  # None: not graded
    extracted: str | None
    meta: dict = field(default_factory=dict)  # e.g. difficulty, thought (bool)
    # False when the reasoning/answer split cannot be told (no </think> and no opened think
    # block, as in the paper's raw ChatML prompt): reasoning/answer_tokens are then 0 and unknown
    split_known: bool = True
    # identity beyond the model and sampling (evals.identity); None in records written before
    # they existed, which are therefore never reused
    backend: str | None = None  # "transformers" | "vllm" | ...
    dtype: str | None = None  # eval dtype, e.g. "bfloat16"
    tokenizer_hash: str | None = None  # vocabulary, special tokens and chat template
    prompt_hash: str | None = None  # the rendered prompt
    problem_hash: str | None = None  # the problem's text and gold answer

    def __post_init__(self) -> None:
        check_record(self)

    def key(self) -> tuple:
        """Identity of a sample: a rerun skips records whose key is stored."""
        return (
            self.model_fingerprint,
            self.benchmark,
            self.benchmark_version,
            self.prompt_mode,
            json.dumps(self.sampling, sort_keys=True),
            self.seed,
            self.problem_id,
            self.sample_index,
            self.backend,
            self.dtype,
            self.tokenizer_hash,
            self.prompt_hash,
            self.problem_hash,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "SampleRecord":
        d = json.loads(line)
        if not isinstance(d, dict):
            raise RecordError(f"expected a JSON object, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        missing = sorted(f.name for f in fields(cls) if f.name not in d and f.name not in OPTIONAL_FIELDS)
        if missing:
            raise RecordError(f"missing field(s) {', '.join(map(repr, missing))}")
        return cls(**{k: v for k, v in d.items() if k in known})
