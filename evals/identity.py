"""What makes two samples the same sample: the hashes a results-store key carries beyond the
model fingerprint, benchmark version, prompt mode, sampling and seed.

    setup = SampleSetup.of(tokenizer, backend="vllm", dtype="bfloat16")
    setup.fields(problem, rendered_prompt)   # -> the SampleRecord identity fields

A stored sample is reused only when everything that changes its output or its grade is the
same: the model (parents' fingerprints, method, params, lam, merge seed, and the strength
schedule's fingerprint and paper_compat when the label carries them: the model fingerprint,
evals.sweep.plan.merge_fingerprint), the eval dtype and backend, the tokenizer and chat template, the rendered
prompt (prompt mode, system prompt, template), sampling, benchmark version, and the
problem's text and gold answer. Records written before these fields existed carry None for
them, so they are never reused: a rerun regenerates those samples beside them (and a report
over the whole file then refuses the mix, naming the sample: start a new results file).
"""
from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass

from evals.benchmarks.base import Benchmark, Problem
from evals.prompting import render_prompt

_TOKENIZER_HASHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# (tokenizer hash, benchmark, prompt mode, problem) -> rendered-prompt hash: a sweep asks for the
# same problem's key once per point, and rendering a chat template costs ~0.4 ms
_PROMPT_HASHES: dict = {}
_PROMPT_CACHE_MAX = 1 << 18


def short_hash(*parts) -> str:
    """sha256 (first 16 hex digits) of the JSON of `parts`."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def tokenizer_hash(tokenizer) -> str | None:
    """Hash of what a tokenizer does to text: its class, vocabulary, special tokens and chat
    template (None without a tokenizer). Cached per tokenizer object (the 151,936-entry Qwen3
    vocabulary takes a tenth of a second)."""
    if tokenizer is None:
        return None
    try:
        return _TOKENIZER_HASHES[tokenizer]
    except (KeyError, TypeError):
        pass
    vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
    value = short_hash(type(tokenizer).__name__, sorted(vocab.items(), key=lambda kv: kv[1]),
                       list(getattr(tokenizer, "all_special_tokens", []) or []),
                       getattr(tokenizer, "chat_template", None))
    try:
        _TOKENIZER_HASHES[tokenizer] = value
    except TypeError:  # not weak-referenceable: recompute next time
        pass
    return value


def problem_hash(problem: Problem) -> str:
    """Hash of the problem's text and gold answer (what the grade depends on besides the output)."""
    return short_hash(problem.prompt, problem.gold)


def planned_dtype(backend: str, dtype: str | None) -> str:
    """The eval dtype a sweep's records carry: the configured one, else the backend's default
    (transformers loads float32; vLLM's "auto" is the checkpoint's own, in its fingerprint)."""
    if dtype:
        return str(dtype).removeprefix("torch.")
    return "float32" if backend == "transformers" else "auto"


def backend_dtype(backend) -> str | None:
    """The dtype a backend object evaluates in: its live model's, or its `dtype` attribute."""
    model = getattr(backend, "model", None)
    if model is not None and hasattr(model, "parameters"):
        first = next(iter(model.parameters()), None)
        if first is not None:
            return str(first.dtype).removeprefix("torch.")
    dtype = getattr(backend, "dtype", None)
    return None if dtype is None else str(dtype).removeprefix("torch.")


@dataclass(frozen=True)
class SampleSetup:
    """The per-run part of a sample's identity (backend, dtype, tokenizer)."""

    backend: str | None
    dtype: str | None
    tokenizer_hash: str | None

    @classmethod
    def of(cls, tokenizer, *, backend: str | None, dtype: str | None) -> "SampleSetup":
        return cls(backend, dtype, tokenizer_hash(tokenizer))

    def rendered_fields(self, tokenizer, benchmark: Benchmark, problem: Problem, prompt_mode: str) -> dict:
        """`fields` of `problem` rendered by `tokenizer` (this setup's), rendering each problem once."""
        key = (self.tokenizer_hash, benchmark, prompt_mode, problem)
        try:
            digest = _PROMPT_HASHES.get(key)
        except TypeError:  # an unhashable benchmark or problem field: render every time
            key, digest = None, None
        if digest is None:
            digest = short_hash(render_prompt(tokenizer, problem, benchmark, prompt_mode))
            if key is not None:
                if len(_PROMPT_HASHES) >= _PROMPT_CACHE_MAX:
                    _PROMPT_HASHES.clear()
                _PROMPT_HASHES[key] = digest
        return dict(backend=self.backend, dtype=self.dtype, tokenizer_hash=self.tokenizer_hash,
                    prompt_hash=digest, problem_hash=problem_hash(problem))

    def fields(self, problem: Problem, prompt: str) -> dict:
        """The SampleRecord identity fields of one problem rendered as `prompt`."""
        return dict(backend=self.backend, dtype=self.dtype, tokenizer_hash=self.tokenizer_hash,
                    prompt_hash=short_hash(prompt), problem_hash=problem_hash(problem))
