"""The per-sample record: the unit of the results store and of every analysis.

One record per generated sample, appended as one JSON line. Token counts come from the
generated token ids. `truncated` outputs (finish_reason == "length": the output hit the
token cap) are counted wrong, whatever they wrote.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields


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
    correct: bool
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
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
