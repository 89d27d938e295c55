"""The prefill-only transition probe (evals/probe.py) on the shipped tiny pair.

The probe's decision (score > 0: the merge prefers the thinking parent's first token) is
checked against what greedy generation of the same merge actually does, problem by
problem; teacher-forced log-probabilities against an unpadded forward pass; the predicted
points against hand-picked parents' outcomes; the CLI end to end on 12 problems.
"""
import argparse

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from evals.analysis.points import Point
from evals.benchmarks.registry import get_benchmark
from evals.sweep.presets import tiny_dir
from evals.probe import (Cost, ParentOutcomes, ProbeResult, continuation_logprobs, encode_prompts,
                         predict_transition, predicted_points, run_probe)
from evals.probe_cli import grid
from fixtures import task
from fixtures.evaluate import evaluate
from merging.inplace import InPlaceMerger

pytestmark = pytest.mark.fast
TINY = tiny_dir()


@pytest.fixture(scope="module")
def live():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(TINY / "think")
    model = AutoModelForCausalLM.from_pretrained(TINY / "think", dtype=torch.float32).eval()
    merger = InPlaceMerger(model, str(TINY / "direct"), str(TINY / "think"), method="linear")
    bench = get_benchmark("synthetic")
    problems = [p for p in bench.load(None) if p.id.endswith(("-001", "-002", "-003", "-004"))]  # 4 per k
    yield tok, model, merger, bench, problems
    torch.set_num_threads(threads)


def test_decisions_match_greedy_generation(live):
    """At the parents and inside the transition (README: lam 0.50 thinks on 36%, 0.52 on 78%)
    the probe's per-problem decision equals whether greedy generation thinks."""
    tok, model, merger, bench, problems = live
    lams = (0.0, 0.5, 0.52, 1.0)
    res = run_probe(model, tok, merger, problems, bench, lams)
    assert res.think_share()[0] == 0.0 and res.think_share()[-1] == 1.0
    by_id = {p.id: p for p in problems}
    chains = [task.parse(by_id[i].prompt) for i in res.problem_ids]
    for li, lam in enumerate(lams):
        merger.apply(lam)
        thinks = np.array([o.thinks for o in evaluate(model, tok, chains)])
        assert (res.thinks[li] == thinks).all(), lam
    assert 0.0 < res.think_share()[1] < res.think_share()[2] < 1.0
    # one forward pass per lam (both references are one token) plus one per parent reference
    assert res.cost.forward_passes == 2 * len(lams) + 2
    assert res.think_ref[0] != res.direct_ref[0]
    assert tok.decode(list(res.direct_ref[0])) == task.THINK_CLOSE


def test_teacher_forced_logprob_is_padding_invariant(live):
    tok, model, merger, bench, problems = live
    merger.apply(0.5)
    seqs = encode_prompts(tok, problems[:3], bench, "chat_template")
    seqs[1] = seqs[1][:-3]  # different lengths: left padding in the batch
    conts = [[tok.convert_tokens_to_ids(task.THINK_CLOSE), 0], [5, 6], [7]]
    got = continuation_logprobs(model, seqs, conts, tok.pad_token_id, batch=8, cost=Cost())
    for s, c, g in zip(seqs, conts, got):
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([s + c])).logits[0], -1)
        want = sum(float(logp[len(s) + j - 1, t]) for j, t in enumerate(c))
        assert g == pytest.approx(want, abs=1e-4)


def _result(scores):
    ids = ("a", "b", "c")
    return ProbeResult((0.0, 0.5, 1.0), ids, np.array(scores, dtype=float), ((1,),) * 3, ((2,),) * 3)


def test_predicted_points_take_the_preferred_parents_outcome():
    res = _result([[-1, -1, -1], [2, -3, 0.5], [1, 1, 1]])
    direct = ParentOutcomes({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 4.0, "b": 4.0, "c": 4.0})
    think = ParentOutcomes({"a": 1.0, "b": 1.0, "c": 1.0}, {"a": 15.0, "b": 19.0, "c": 23.0})
    mid = predicted_points(res, "tiny", "synthetic", direct, think)[1]
    assert isinstance(mid, Point)
    assert mid.per_problem("correct").tolist() == [1.0, 0.0, 1.0]  # a, c think; b answers
    assert mid.per_problem("tokens").tolist() == [15.0, 4.0, 23.0]
    assert mid.accuracy == pytest.approx(2 / 3) and mid.thought_rate == pytest.approx(2 / 3)
    share = predicted_points(res, "tiny", "synthetic")
    assert [p.accuracy for p in share] == [0.0, pytest.approx(2 / 3), 1.0]
    with pytest.raises(ValueError, match="lack problem"):
        predicted_points(res, "tiny", "synthetic", ParentOutcomes({}, {}), think)


def test_predicted_centre_of_a_clean_step_lies_between_the_steps():
    lams = tuple(round(0.1 * i, 1) for i in range(11))
    ids = tuple(f"p{i:02d}" for i in range(20))
    scores = np.array([[1.0 if lam >= 0.6 else -1.0] * 20 for lam in lams])
    res = ProbeResult(lams, ids, scores, ((1,),) * 20, ((2,),) * 20)
    tr = predict_transition(res, "tiny", "synthetic", n_boot=50)
    assert 0.5 <= tr.fit.c <= 0.6


@pytest.mark.parametrize("lo, hi, step, want", [(0.0, 1.0, 0.25, [0.0, 0.25, 0.5, 0.75, 1.0]),
                                                (0.4, 0.5, 0.05, [0.4, 0.45, 0.5])])
def test_grid(lo, hi, step, want):
    assert grid(lo, hi, step) == want


def test_bad_arguments_are_refused(live):
    tok, model, merger, bench, problems = live
    with pytest.raises(ValueError, match="ref_tokens"):
        run_probe(model, tok, merger, problems, bench, [0.5], ref_tokens=0)
    with pytest.raises(ValueError, match="grid"):
        grid(0.6, 0.4, 0.1)


def test_cli_end_to_end(tmp_path, capsys):
    from evals.probe_cli import add_parser

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(f"pair: tiny\nmethods: [linear]\nbenchmarks: [synthetic]\nthreads: 1\n"
                   f"results: {tmp_path / 'r.jsonl'}\n")
    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers())
    args = ap.parse_args(["probe", str(cfg), "--step", "0.25", "--problems", "12", "--n-boot", "50",
                          "--json", str(tmp_path / "p.json")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "predicted accuracy transition: centre" in out and "forward passes" in out
    assert (tmp_path / "r.jsonl").read_text().count("\n") == 24  # both parents, 12 problems each
    assert args.func(args) == 0  # the second run reuses the stored parents
    assert "parents generated 0 tokens" in capsys.readouterr().out
