"""The scripted fake backend end to end through runner + store: grading, tokens, resume."""
import json

import pytest

from evals.backends.base import SamplingParams
from evals.backends.fake import FakeBackend
from evals.benchmarks.registry import get_benchmark
from evals.runner import evaluate
from evals.store import ResultsStore

pytestmark = pytest.mark.fast

ROWS = [{"id": i, "problem": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(1, 5)]


def script(prompt: str, i: int) -> str:
    """Sample 0 thinks and answers right; sample 1 answers directly, wrong for problem 3;
    sample 2 thinks forever (hits the cap)."""
    n = int(prompt.split("What is ")[1].split(" +")[0])
    if i == 0:
        return f"add {n} and {n}</think>The answer is \\boxed{{{2 * n}}}."
    if i == 1:
        return f"\\boxed{{{2 * n + (n == 3)}}}"
    return "let me think " * 20


@pytest.fixture()
def problems(tmp_path):
    path = tmp_path / "aime.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return get_benchmark("aime24").load(str(path))


def _run(backend, tok, problems, store, n=3):
    return evaluate(backend, tok, "aime24", problems, SamplingParams(n=n, max_new_tokens=60), store=store,
                    model="fake", model_fingerprint="fake-fp", pair="tiny", lam=1.0, progress=False)


def test_end_to_end_with_store(tmp_path, char_tok, problems):
    store = ResultsStore(tmp_path / "r.jsonl")
    fake = FakeBackend(script, char_tok)
    recs = _run(fake, char_tok, problems, store)
    assert len(recs) == 12 and len(fake.calls) == 12
    by = {(r.problem_id, r.sample_index): r for r in recs}
    think_end = char_tok.convert_tokens_to_ids("</think>")
    for p in problems:
        r0, r1, r2 = (by[(p.id, i)] for i in range(3))
        ids = char_tok.encode(script(p.prompt, 0), add_special_tokens=False)
        assert r0.correct and r0.generated_tokens == len(ids)
        assert r0.reasoning_tokens == ids.index(think_end) + 1 and r0.meta["thought"]
        assert r1.reasoning_tokens == 0 and r1.answer_tokens == r1.generated_tokens and not r1.meta["thought"]
        assert r1.correct == (p.id != "3")
        assert r2.truncated and not r2.correct and r2.generated_tokens == 60 and r2.reasoning_tokens == 60
        assert r0.prompt_mode == "chat_template" and r0.sampling["n"] == 3 and r0.lam == 1.0
    assert ResultsStore(store.path).records() == recs  # what was returned is what was stored

    again = FakeBackend(script, char_tok)
    assert _run(again, char_tok, problems, ResultsStore(store.path)) == recs and again.calls == []


def test_partial_store_generates_only_missing_samples(tmp_path, char_tok, problems):
    path = tmp_path / "r.jsonl"
    full = _run(FakeBackend(script, char_tok), char_tok, problems, None)
    ResultsStore(path).extend(full[:5])  # as if killed after 5 samples
    fake = FakeBackend(script, char_tok)
    recs = _run(fake, char_tok, problems, ResultsStore(path))
    assert recs == full and len(fake.calls) == 7
    assert len(set(fake.calls)) == len(fake.calls)  # no sample generated twice
    keys = [r.key() for r in ResultsStore(path).records()]
    assert len(keys) == len(set(keys)) == 12


class _NoIndexBackend(FakeBackend):
    """A backend that can only produce all n samples of a prompt."""

    supports_sample_indices = False

    def generate(self, prompts, params):
        return super().generate(prompts, params)


def test_backend_without_sample_indices(tmp_path, char_tok, problems):
    full = _run(FakeBackend(script, char_tok), char_tok, problems, None)
    store = ResultsStore(tmp_path / "r.jsonl")
    store.extend(full[:4])
    assert _run(_NoIndexBackend(script, char_tok), char_tok, problems, store) == full


def test_changed_sampling_is_a_new_sample(tmp_path, char_tok, problems):
    store = ResultsStore(tmp_path / "r.jsonl")
    _run(FakeBackend(script, char_tok), char_tok, problems, store, n=1)
    fake = FakeBackend(script, char_tok)
    _run(fake, char_tok, problems, store, n=2)  # n is part of the sampling key
    assert len(fake.calls) == 8 and len(store) == 12


def test_fake_stop_strings_and_cap():
    fake = FakeBackend(lambda p, i: "abc STOP def")
    (c,), = fake.generate(["x"], SamplingParams(stop=("STOP",)))
    assert (c.text, c.finish_reason, len(c.token_ids)) == ("abc ", "stop", len("abc STOP"))
    (c,), = fake.generate(["x"], SamplingParams(max_new_tokens=5))
    assert (c.text, c.finish_reason) == ("abc S", "length")
