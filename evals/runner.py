"""Evaluate one model on one benchmark: generate what is missing, grade, store per sample.

    backend = TransformersBackend.from_pretrained(model_dir)
    records = evaluate(backend, backend.tokenizer, get_benchmark("aime25"), problems,
                       SamplingParams(n=10, temperature=0.6, top_p=0.95, top_k=20, max_new_tokens=32768),
                       store=ResultsStore("results.jsonl"), model="qwen3-4b/think",
                       model_fingerprint=fingerprint_model(model_dir), pair="qwen3-4b", lam=1.0)

Samples already in the store (same fingerprint, benchmark version, prompt mode, sampling,
seed, problem, sample index, backend, dtype, tokenizer, rendered prompt and problem text and
gold: `evals.identity`) are skipped; the rest are generated in calls of about
`backend.batch_size` samples, graded in the main thread (math-verify needs it) and
appended one record at a time, so a killed run loses only the call in flight.
A parent checkpoint is recorded with method=None and lam=0.0 (direct) or 1.0 (think).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Container, Mapping, Sequence

from tqdm import tqdm

from evals.backends.base import Completion, SamplingParams
from merging.expert_layout import LiveTensors
from evals.benchmarks.base import Benchmark, Problem
from evals.benchmarks.registry import get_benchmark
from evals.grading.style import style_bleed
from evals.grading.thinking import marker_token_ids, prompt_opens_think, reasoned, split_text, split_tokens
from evals.identity import SampleSetup, backend_dtype
from evals.prompting import PROMPT_MODES, render_prompt
from evals.records import SampleRecord
from evals.store import ResultsStore

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def fingerprint_model(model_or_dir) -> str:
    """Content hash (sha256, first 20 hex digits) of a checkpoint folder's config and
    weight files, or of an nn.Module's tensors under checkpoint names (names, dtypes, shapes, bytes)."""
    h = hashlib.sha256()
    if isinstance(model_or_dir, (str, Path)):
        d = Path(model_or_dir)
        files = sorted(f for f in d.iterdir() if f.suffix in _WEIGHT_SUFFIXES or f.name == "config.json") if d.is_dir() else []
        if not any(f.suffix in _WEIGHT_SUFFIXES for f in files):
            raise ValueError(f"{d}: no weight files (*.safetensors/*.bin) to fingerprint; pass a checkpoint folder")
        for f in files:
            h.update(f.name.encode() + b"\0")
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
        return h.hexdigest()[:20]
    import torch

    for name, t in LiveTensors(model_or_dir).all().items():  # checkpoint names: same on transformers 4 and 5
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:20]


def _small_meta(meta: dict) -> dict:
    """Problem metadata worth copying into every record (scalars, short labels; not texts)."""
    return {k: v for k, v in meta.items() if k not in ("question", "base_prompt")
            and (isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 64))}


def grade_completion(benchmark: Benchmark, problem: Problem, completion: Completion,
                     marker_ids: Sequence[int] | None, *, grade_full_text: bool = False,
                     prompt_mode: str = "chat_template") -> dict:
    """The verdict and token accounting of one completion, as SampleRecord fields."""
    text_split = split_text(completion.text, benchmark.think_end)
    tok_split = split_tokens(completion.token_ids, marker_ids, completion.finish_reason,
                             opened=prompt_opens_think(prompt_mode))
    truncated = tok_split.truncated
    grade = benchmark.grade(problem, completion.text if grade_full_text else text_split.answer)
    meta = {
        "thought": reasoned(text_split, benchmark.think_end, truncated=truncated),
        "graded": benchmark.kind != "creative",
        "tag_bleed": style_bleed(text_split.answer).tag_bleed,
        **_small_meta(problem.meta),
    }
    if not tok_split.known:
        meta["thought"] = None  # unknown, not "did not think" (no </think> without an opened block)
    if grade_full_text:
        meta["grade_full_text"] = True
    if text_split.thought != tok_split.thought:  # marker in text but not as tokens (or vice versa)
        meta["split_mismatch"] = True
    if benchmark.kind == "creative":
        meta["style"] = style_bleed(text_split.answer).to_dict()
    if "sample_seed" in completion.meta:
        meta["sample_seed"] = completion.meta["sample_seed"]
    # an empty answer is malformed, never a cheap correct one (whatever a grader makes of "")
    empty = not text_split.answer.strip() and not truncated
    if empty:
        meta["empty_answer"] = True
    # a sample that neither stopped nor hit the cap (vLLM's "abort", ...) never finished: wrong
    unfinished = completion.finish_reason not in ("stop", "length")
    if unfinished:
        meta["unfinished"] = completion.finish_reason
    return dict(
        text=completion.text, generated_tokens=len(completion.token_ids),
        reasoning_tokens=tok_split.reasoning_tokens, answer_tokens=tok_split.answer_tokens,
        finish_reason=completion.finish_reason, truncated=truncated,
        malformed=(grade.malformed or empty) and not truncated,  # a cut-off answer is truncated, not malformed
        correct=grade.correct and not truncated and not empty and not unfinished,  # hitting the cap is wrong, whatever was written
        extracted=grade.extracted, meta=meta, split_known=tok_split.known,
    )


def sample_key(benchmark: Benchmark, params: SamplingParams, *, model_fingerprint: str, prompt_mode: str,
               tokenizer=None, backend: str | None = None, dtype: str | None = None
               ) -> Callable[[Problem, int], tuple]:
    """key(problem, sample_index) -> the results-store key of that sample of one model on one
    benchmark under `params` (the identity a rerun skips on; SampleRecord.key decides it, with
    the backend, dtype, tokenizer, rendered prompt and problem hashes of `evals.identity`)."""
    skeleton = SampleRecord(model="", model_fingerprint=model_fingerprint, pair="", method=None, lam=None,
                            benchmark=benchmark.name, benchmark_version=benchmark.version,
                            prompt_mode=prompt_mode, sampling=params.to_dict(), seed=params.seed,
                            problem_id="", sample_index=0, text="", generated_tokens=0, reasoning_tokens=0,
                            answer_tokens=0, finish_reason="stop", truncated=False, malformed=False,
                            correct=False, extracted=None)
    setup = SampleSetup.of(tokenizer, backend=backend, dtype=dtype)
    per_problem: dict[str, SampleRecord] = {}

    def key(problem: Problem, i: int) -> tuple:
        base = per_problem.get(problem.id)
        if base is None:
            base = per_problem[problem.id] = replace(
                skeleton, problem_id=problem.id, **setup.rendered_fields(tokenizer, benchmark, problem, prompt_mode))
        return replace(base, sample_index=i).key()

    return key


def missing_samples(done: Container[tuple], problems: Sequence[Problem], n: int,
                    key: Callable[[Problem, int], tuple]) -> list[tuple[Problem, list[int]]]:
    """(problem, sample indices not in `done`) for every problem with something missing."""
    todo = [(p, [i for i in range(n) if key(p, i) not in done]) for p in problems]
    return [(p, ix) for p, ix in todo if ix]


def evaluate(backend, tokenizer, benchmark: Benchmark | str, problems: Sequence[Problem], params: SamplingParams, *,
             store: ResultsStore | None, model: str, model_fingerprint: str, pair: str, method: str | None = None,
             lam: float | None = None, prompt_mode: str = "chat_template", grade_full_text: bool = False,
             progress: bool = True, before_generate: Callable[[], None] | None = None,
             backend_name: str | None = None, dtype: str | None = None,
             record_meta: Mapping | None = None) -> list[SampleRecord]:
    """All `params.n` records of every problem (stored ones reused, missing ones generated).
    `store`: a ResultsStore, or anything with `key in store`, `store.get(key)` and `store.append(record)`.
    `backend`: an `evals.backends.base.Backend`. `before_generate`: called before each
    `backend.generate` call (a sweep writes the point's weights into the model there, so a
    point whose samples are all stored is never merged). `backend_name`, `dtype`: what the
    records' identity names (default: `backend.name` and the live model's dtype). `record_meta`:
    entries added to every generated record's `meta` (a sweep's merge description; never part
    of a record's key)."""
    if isinstance(benchmark, str):
        benchmark = get_benchmark(benchmark)
    if prompt_mode not in PROMPT_MODES:
        raise ValueError(f"unknown prompt mode {prompt_mode!r}; choose one of {', '.join(PROMPT_MODES)}")
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        raise ValueError(f"benchmark {benchmark.name!r}: duplicate problem ids; ids must be unique")
    sampling = params.to_dict()
    common = dict(model=model, model_fingerprint=model_fingerprint, pair=pair, method=method, lam=lam,
                  benchmark=benchmark.name, benchmark_version=benchmark.version, prompt_mode=prompt_mode,
                  sampling=sampling, seed=params.seed)
    backend_name = backend_name if backend_name is not None else getattr(backend, "name", type(backend).__name__)
    dtype = dtype if dtype is not None else backend_dtype(backend)
    key = sample_key(benchmark, params, model_fingerprint=model_fingerprint, prompt_mode=prompt_mode,
                     tokenizer=tokenizer, backend=backend_name, dtype=dtype)
    setup = SampleSetup.of(tokenizer, backend=backend_name, dtype=dtype)
    # looked up in the store's own index: rebuilding a dict of every stored record per call
    # made a sweep quadratic in its number of points
    stored = store if store is not None else {}
    done: dict[tuple, SampleRecord] = {}
    todo = missing_samples(stored, problems, params.n, key)
    marker_ids = marker_token_ids(tokenizer, benchmark.think_end)
    per_call = max(1, int(backend.batch_size))
    by_index = backend.supports_sample_indices

    bar = tqdm(total=sum(len(ix) for _, ix in todo), disable=not progress, unit="sample",
               desc=f"{model} {benchmark.name}")
    t0, tokens = time.perf_counter(), 0
    pos = 0
    while pos < len(todo):
        chunk, size = [], 0
        while pos < len(todo) and (not chunk or size + len(todo[pos][1]) <= per_call):
            chunk.append(todo[pos])
            size += len(todo[pos][1])
            pos += 1
        prompts = [render_prompt(tokenizer, p, benchmark, prompt_mode) for p, _ in chunk]
        if before_generate is not None:
            before_generate()
        if by_index:
            outs = backend.generate(prompts, params, sample_indices=[ix for _, ix in chunk])
            pairs = [(ix, row) for (_, ix), row in zip(chunk, outs)]
        else:  # regenerate all n and keep the missing ones (seeded backends give the same samples)
            outs = backend.generate(prompts, params)
            pairs = [(ix, [row[i] for i in ix]) for (_, ix), row in zip(chunk, outs)]
        for (problem, _), prompt, (ix, comps) in zip(chunk, prompts, pairs):
            identity = setup.fields(problem, prompt)
            for i, comp in zip(ix, comps):
                fields = grade_completion(benchmark, problem, comp, marker_ids, grade_full_text=grade_full_text,
                                          prompt_mode=prompt_mode)
                if record_meta:
                    fields["meta"].update(record_meta)
                rec = SampleRecord(**common, problem_id=problem.id, sample_index=i, **fields, **identity)
                if store is not None:
                    store.append(rec)
                done[rec.key()] = rec
                tokens += rec.generated_tokens
                bar.update(1)
            bar.set_postfix(tok_s=f"{tokens / max(time.perf_counter() - t0, 1e-9):.1f}")
    bar.close()
    keys = [key(p, i) for p in problems for i in range(params.n)]
    return [done[k] if k in done else stored.get(k) for k in keys]
