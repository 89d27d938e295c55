"""Result identity: a stored sample is reused only when everything that changes its output or
its grade is the same. One field changed at a time regenerates every sample; the same setup
regenerates none; records written before the identity fields existed are not reused."""
import copy
import json
from dataclasses import replace

import pytest

from evals.backends.base import SamplingParams
from evals.backends.fake import FakeBackend
from evals.benchmarks.registry import get_benchmark
from evals.identity import planned_dtype, tokenizer_hash
from evals.records import SampleRecord
from evals.runner import evaluate
from evals.store import ResultsStore
from evals.sweep.plan import SweepJob, job_fingerprint

pytestmark = pytest.mark.fast

ROWS = [{"id": i, "problem": f"What is {i} + {i}?", "answer": str(2 * i)} for i in (1, 2)]


def script(prompt: str, i: int) -> str:
    n = int(prompt.split("What is ")[1].split(" +")[0])
    return f"add</think>\\boxed{{{2 * n}}}"


@pytest.fixture()
def problems(tmp_path):
    path = tmp_path / "aime.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return get_benchmark("aime24").load(str(path))


def _setup(char_tok, problems) -> dict:
    return dict(tokenizer=char_tok, benchmark=get_benchmark("aime24"), problems=problems,
                params=SamplingParams(n=2, max_new_tokens=40), model_fingerprint="fp-a", prompt_mode="chat_template",
                backend_name="fake", dtype="float32")


def _run(store, s: dict):
    fake = FakeBackend(script, s["tokenizer"])
    recs = evaluate(fake, s["tokenizer"], s["benchmark"], s["problems"], s["params"], store=store, model="m",
                    model_fingerprint=s["model_fingerprint"], pair="tiny", lam=1.0, prompt_mode=s["prompt_mode"],
                    progress=False, backend_name=s["backend_name"], dtype=s["dtype"])
    return fake.calls, recs


def _other_template(tok):
    t = copy.deepcopy(tok)
    t.chat_template = tok.chat_template + "{# v2: renders the same text #}"
    return t


def _other_vocab(tok):
    t = copy.deepcopy(tok)
    t.add_tokens(["<extra>"])
    return t


CHANGES = {
    "model fingerprint (parents, method, params, lam, merge seed)": lambda s: {"model_fingerprint": "fp-b"},
    "eval dtype": lambda s: {"dtype": "bfloat16"},
    "backend": lambda s: {"backend_name": "vllm"},
    "chat template": lambda s: {"tokenizer": _other_template(s["tokenizer"])},
    "tokenizer vocabulary": lambda s: {"tokenizer": _other_vocab(s["tokenizer"])},
    "prompt mode": lambda s: {"prompt_mode": "chatml_system"},
    "rendered prompt (same benchmark version)": lambda s: {
        "benchmark": replace(s["benchmark"], system_prompt="Answer in Latin.")},
    "sampling": lambda s: {"params": replace(s["params"], temperature=0.6)},
    "sampling seed": lambda s: {"params": replace(s["params"], seed=7)},
    "benchmark version": lambda s: {"benchmark": replace(s["benchmark"], version=s["benchmark"].version + "+1")},
    "problem text": lambda s: {"problems": [replace(p, prompt=p.prompt + " ") for p in s["problems"]]},
    "gold answer": lambda s: {"problems": [replace(p, gold="999") for p in s["problems"]]},
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_changing_one_field_regenerates_every_sample(tmp_path, char_tok, problems, what):
    s = _setup(char_tok, problems)
    store = ResultsStore(tmp_path / "r.jsonl")
    calls, first = _run(store, s)
    assert len(calls) == 4 and all(r.correct for r in first)
    again, _ = _run(ResultsStore(store.path), s)
    assert again == []  # the same setup reuses every stored sample
    changed = {**s, **CHANGES[what](s)}
    calls, recs = _run(ResultsStore(store.path), changed)
    assert len(calls) == 4, what
    if what == "gold answer":  # graded against the new gold, not the stored verdict
        assert not any(r.correct for r in recs)


def test_records_without_identity_fields_are_not_reused(tmp_path, char_tok, problems):
    """An old store (written before backend/dtype/hashes were recorded) is regenerated beside."""
    s = _setup(char_tok, problems)
    path = tmp_path / "old.jsonl"
    _, recs = _run(None, s)
    old = [replace(r, backend=None, dtype=None, tokenizer_hash=None, prompt_hash=None, problem_hash=None)
           for r in recs]
    ResultsStore(path).extend(old)
    calls, new = _run(ResultsStore(path), s)
    assert len(calls) == 4 and new == recs
    assert len(ResultsStore(path)) == 8


def test_tokenizer_hash_is_cached_and_content_based(char_tok):
    assert tokenizer_hash(char_tok) == tokenizer_hash(copy.deepcopy(char_tok)) is not None
    assert tokenizer_hash(None) is None


@pytest.mark.parametrize("backend,dtype,want", [("transformers", None, "float32"), ("vllm", None, "auto"),
                                                ("vllm", "bfloat16", "bfloat16"),
                                                ("transformers", "torch.float16", "float16")])
def test_planned_dtype(backend, dtype, want):
    assert planned_dtype(backend, dtype) == want


FPS = {"direct": "d0", "think": "t0", "base": "b0"}


@pytest.mark.parametrize("job,fps,seed", [
    (SweepJob("p", "linear", 0.5, "aime24", 0), {**FPS, "think": "t1"}, 0),   # a parent's fingerprint
    (SweepJob("p", "linear", 0.5, "aime24", 0), {**FPS, "base": "b1"}, 0),    # the base's
    (SweepJob("p", "ties", 0.5, "aime24", 0), FPS, 0),                        # method
    (SweepJob("p", "ties(density=0.2)", 0.5, "aime24", 0), FPS, 0),           # params
    (SweepJob("p", "linear", 0.6, "aime24", 0), FPS, 0),                      # lam
    (SweepJob("p", "linear", 0.5, "aime24", 0), FPS, 3),                      # merge seed
])
def test_merge_fingerprint_changes_with_each_field(job, fps, seed):
    ref = job_fingerprint(SweepJob("p", "linear", 0.5, "aime24", 0), FPS, 0)
    assert job_fingerprint(SweepJob("p", "linear", 0.5, "aime24", 0), dict(FPS), 0) == ref
    assert job_fingerprint(job, fps, seed) != ref


def test_record_key_names_the_new_fields():
    rec = SampleRecord(model="m", model_fingerprint="f", pair="p", method=None, lam=0.0, benchmark="b",
                       benchmark_version="1", problem_id="x", sample_index=0, prompt_mode="raw", sampling={},
                       seed=0, text="", generated_tokens=0, reasoning_tokens=0, answer_tokens=0,
                       finish_reason="stop", truncated=False, malformed=True, correct=False, extracted=None)
    for name in ("backend", "dtype", "tokenizer_hash", "prompt_hash", "problem_hash"):
        assert replace(rec, **{name: "x"}).key() != rec.key(), name
    assert SampleRecord.from_json(replace(rec, dtype="bfloat16").to_json()).dtype == "bfloat16"
