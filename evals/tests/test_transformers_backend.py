"""The transformers backend on a tiny random Qwen3 with an in-memory character tokenizer."""
import json

import pytest
import torch

from evals.backends.base import SamplingParams
from evals.backends.transformers_backend import TransformersBackend, filter_logits
from evals.benchmarks.registry import get_benchmark
from evals.runner import evaluate, fingerprint_model
from evals.store import ResultsStore
from evals.tests.tiny_lm import tiny_qwen3

pytestmark = pytest.mark.fast

PROMPTS = ["What is 2+2?", "x", "A much longer prompt, so that the others need left padding."]


def _ids(results):
    return [[c.token_ids for c in row] for row in results]


def test_batched_equals_unbatched(char_tok, tiny_model):
    for params in (SamplingParams(max_new_tokens=12), SamplingParams(max_new_tokens=12, temperature=1.0, top_k=20, n=2, seed=7)):
        one = TransformersBackend(tiny_model, char_tok, batch_size=1).generate(PROMPTS, params)
        many = TransformersBackend(tiny_model, char_tok, batch_size=4).generate(PROMPTS, params)
        assert _ids(one) == _ids(many)


def test_seeded_sampling(char_tok, tiny_model):
    be = TransformersBackend(tiny_model, char_tok, batch_size=4)
    p = SamplingParams(max_new_tokens=10, temperature=1.0, n=3, seed=1)
    a, b = be.generate(PROMPTS, p), be.generate(PROMPTS, p)
    assert _ids(a) == _ids(b)
    assert _ids(a) != _ids(be.generate(PROMPTS, SamplingParams(max_new_tokens=10, temperature=1.0, n=3, seed=2)))
    assert len({c.token_ids for c in a[0]}) > 1  # samples of one prompt differ
    (only,), = be.generate(PROMPTS[:1], p, sample_indices=[[2]])
    assert only.token_ids == a[0][2].token_ids  # sample 2 can be generated alone (resume)


def test_length_finish_and_counts(char_tok, tiny_model):
    be = TransformersBackend(tiny_model, char_tok)
    for row in be.generate(PROMPTS, SamplingParams(max_new_tokens=7)):
        c = row[0]
        assert c.finish_reason == "length" and len(c.token_ids) == 7
        assert c.text == char_tok.decode(list(c.token_ids), skip_special_tokens=False)


def test_eos_is_counted_but_not_in_text(char_tok, tiny_model):
    be = TransformersBackend(tiny_model, char_tok)
    (free,), = be.generate(PROMPTS[:1], SamplingParams(max_new_tokens=10))
    ids = free.token_ids
    j = next(j for j in range(1, len(ids)) if ids[j] not in ids[:j])  # first fresh token acts as EOS
    be.eos_ids = {ids[j]}
    (c,), = be.generate(PROMPTS[:1], SamplingParams(max_new_tokens=10))
    assert c.finish_reason == "stop" and c.token_ids == ids[: j + 1]
    assert c.text == char_tok.decode(list(ids[:j]), skip_special_tokens=False)


def test_stop_string(char_tok, tiny_model):
    be = TransformersBackend(tiny_model, char_tok)
    (free,), = be.generate(PROMPTS[:1], SamplingParams(max_new_tokens=12))
    stop = free.text[4:6]
    cut = free.text.find(stop)
    (c,), = be.generate(PROMPTS[:1], SamplingParams(max_new_tokens=12, stop=(stop,)))
    assert c.finish_reason == "stop" and c.text == free.text[:cut]
    assert c.token_ids == free.token_ids[: cut + len(stop)]  # one char per token here


def test_filter_logits_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    keep = lambda p: torch.isfinite(filter_logits(logits, p))[0].tolist()
    assert keep(SamplingParams(temperature=1.0, top_k=2)) == [True, True, False, False]
    assert keep(SamplingParams(temperature=1.0, top_p=0.8)) == [True, True, False, False]  # .5+.3 reaches .8
    assert keep(SamplingParams(temperature=1.0, top_p=0.81)) == [True, True, True, False]
    assert keep(SamplingParams(temperature=1.0, top_p=0.4)) == [True, False, False, False]


def test_weights_in_place_between_calls(char_tok):
    model, other = tiny_qwen3(char_tok, seed=0), tiny_qwen3(char_tok, seed=1)
    be = TransformersBackend(model, char_tok, batch_size=2)
    p = SamplingParams(max_new_tokens=10)
    before = _ids(be.generate(PROMPTS, p))
    fp_before = fingerprint_model(be.model)
    original = {k: v.clone() for k, v in model.state_dict().items()}
    be.load_weights(other.state_dict())
    assert _ids(be.generate(PROMPTS, p)) == _ids(TransformersBackend(other, char_tok).generate(PROMPTS, p))
    assert fingerprint_model(be.model) == fingerprint_model(other) != fp_before
    be.load_weights(original)
    assert _ids(be.generate(PROMPTS, p)) == before  # nothing of the other weights survived
    with pytest.raises(ValueError, match="no place in the live"):
        be.load_weights({"not.a.weight": torch.zeros(1)})


def test_end_to_end_runner_and_reload(tmp_path, char_tok, tiny_model):
    data = tmp_path / "aime.jsonl"
    data.write_text("".join(json.dumps({"id": i, "problem": f"Add {i} and {i}.", "answer": str(2 * i)}) + "\n"
                            for i in range(3)))
    ckpt = tmp_path / "ckpt"
    tiny_model.save_pretrained(ckpt)
    char_tok.save_pretrained(ckpt)
    be = TransformersBackend.from_pretrained(str(ckpt), batch_size=4)
    bench = get_benchmark("aime24")
    params = SamplingParams(n=2, max_new_tokens=16, temperature=0.8, seed=3)
    store = ResultsStore(tmp_path / "r.jsonl")
    kwargs = dict(store=store, model="tiny", model_fingerprint=fingerprint_model(ckpt), pair="tiny", lam=0.0,
                  progress=False)
    recs = evaluate(be, be.tokenizer, bench, bench.load(str(data)), params, **kwargs)
    assert len(recs) == 6 and len(store) == 6
    for r in recs:
        assert r.generated_tokens <= 16 and r.reasoning_tokens + r.answer_tokens == r.generated_tokens
        assert r.truncated == (r.finish_reason == "length") and (not r.truncated or not r.correct)
    # same weights through the in-memory model: identical generations
    direct = TransformersBackend(tiny_model, char_tok, batch_size=1)
    again = evaluate(direct, char_tok, bench, bench.load(str(data)), params, **{**kwargs, "store": None})
    assert [r.text for r in again] == [r.text for r in recs]


def test_generation_raises_no_warning_of_our_own_calls(char_tok, tiny_model):
    """5.24 deprecates forward(past_key_values=) for `cache=`; 4.x knows only the old name."""
    import warnings

    import transformers

    be = TransformersBackend(tiny_model, char_tok, batch_size=2)
    assert be.cache_kw == ("cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = be.generate(PROMPTS, SamplingParams(max_new_tokens=6))
    assert [len(row) for row in rows] == [1, 1, 1]


def _top_k_then_p_over_the_whole_vocabulary(logits, k, p):
    """The definition: mask below the k-th logit, then top-p over the full sorted vocabulary."""
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    logits = logits.masked_fill(logits < kth, float("-inf"))
    s, order = torch.sort(logits, descending=True, dim=-1)
    probs = torch.softmax(s, dim=-1)
    s = s.masked_fill((torch.cumsum(probs, dim=-1) - probs) >= p, float("-inf"))
    return torch.empty_like(logits).scatter_(-1, order, s)


@pytest.mark.parametrize("k, p, ties", [(20, 0.95, False), (5, 0.5, False), (20, 0.8, True), (3, 0.99, True)])
def test_top_k_then_top_p_keeps_what_the_whole_vocabulary_sort_keeps(k, p, ties):
    g = torch.Generator().manual_seed(k)
    logits = torch.randn(4, 5000, generator=g) * 3
    if ties:  # several logits equal to the k-th: all of them survive top-k
        logits[:, :6] = torch.topk(logits, k, dim=-1).values[:, -1:]
    got = filter_logits(logits, SamplingParams(temperature=0.7, top_k=k, top_p=p))
    want = _top_k_then_p_over_the_whole_vocabulary(logits / 0.7, k, p)
    assert torch.equal(torch.isfinite(got), torch.isfinite(want))
    assert torch.equal(got[torch.isfinite(got)], want[torch.isfinite(want)])
