"""Without `</think>` in the paper's raw ChatML mode (no opened think block) the
reasoning/answer split is unknown: records say so, and the figures built on the split
report unknown instead of 0."""
from dataclasses import replace

import pytest

from evals.backends.base import Completion
from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.grading.thinking import split_tokens
from evals.metrics import summarize_group, summary_table
from evals.runner import grade_completion
from evals.tests.records_factory import make_record
from evals.analysis.table import curves_from_records
from evals.report import write_report
from evals.report.tables import THINKS_UNKNOWN_NOTE

pytestmark = pytest.mark.fast

THINK = 9


@pytest.mark.parametrize("ids, finish, opened, expect", [
    ((1, 2, THINK, 3), "stop", False, (3, 1, True, True)),  # marker written: known even without <think>
    ((1, 2, 3, 4), "stop", False, (0, 0, False, False)),  # raw ChatML, no marker: unknown
    ((1, 2, 3, 4), "length", False, (0, 0, False, False)),  # cut off, still unknown
    ((1, 2, 3, 4), "stop", True, (0, 4, False, True)),  # template opened <think>: a direct answer
    ((1, 2, 3, 4), "length", True, (4, 0, False, True)),  # template opened <think>: all reasoning
])
def test_split_tokens_unknown(ids, finish, opened, expect):
    s = split_tokens(ids, THINK, finish, opened=opened)
    assert (s.reasoning_tokens, s.answer_tokens, s.thought, s.known) == expect


@pytest.mark.parametrize("mode, text, known, thought", [
    ("chatml_system", "Let me compute 30 + 3 step by step. So \\boxed{33}", False, None),
    ("chatml_system", "Reasoning here.</think>\\boxed{33}", True, True),
    ("chat_template", "\\boxed{33}", True, False),
])
def test_record_says_split_unknown(mode, text, known, thought):
    comp = Completion(text=text, token_ids=tuple(range(len(text))), finish_reason="stop")
    ids = None if "</think>" not in text else (text.index("</think>"),)
    if ids:  # a one-token marker at the text's position
        n = text.index("</think>")
        comp = Completion(text=text, token_ids=tuple(range(n)) + ids + tuple(range(20)), finish_reason="stop")
    rec = grade_completion(get_benchmark("aime24"), Problem(id="p", prompt="", gold="33"), comp, ids, prompt_mode=mode)
    assert (rec["split_known"], rec["meta"]["thought"], rec["correct"]) == (known, thought, True)


def _unknown(pid, tokens):
    return replace(make_record(pid, tokens=tokens, reasoning=0), split_known=False, meta={"thought": None})


def test_summary_leaves_unknown_splits_out():
    recs = [make_record("a", tokens=10, reasoning=6, thought=True), _unknown("b", 40)]
    s = summarize_group(recs, n_boot=10)
    assert s.mean_tokens == pytest.approx(25.0)  # generated tokens are exact for every sample
    assert (s.mean_reasoning_tokens, s.mean_answer_tokens, s.think_rate) == (6.0, 4.0, 1.0)


def test_all_unknown_reports_unknown_not_zero():
    recs = [_unknown("a", 10), _unknown("b", 30)]
    s = summarize_group(recs, n_boot=10)
    assert (s.mean_reasoning_tokens, s.mean_answer_tokens, s.think_rate) == (None, None, None)
    row = summary_table(recs, n_boot=10).splitlines()[-1]
    assert row.count("unknown") == 3 and "|       20 |" in row


def test_analysis_thought_rate_unknown():

    recs = [replace(r, lam=0.5, method="linear") for r in (_unknown("a", 10), _unknown("b", 30))]
    (curve,) = curves_from_records(recs)
    assert [p.thought_rate for p in curve.points] == [None]


@pytest.mark.parametrize("thought, cell", [
    (None, "n/a"),  # no sample says whether it wrote a think block: said so, with a note
    (True, "100.0%"),
    (False, "0.0%"),  # a known zero is a rate, not unknown
])
def test_report_says_what_is_unknown_about_thinking(tmp_path, thought, cell):
    made = [make_record(pid, tokens=10, reasoning=6 if thought else 0, thought=thought) for pid in "ab"]
    recs = [replace(r, lam=0.5, method="linear") if thought is not None else
            replace(_unknown(r.problem_id, 10), lam=0.5, method="linear") for r in made]
    out = write_report(curves_from_records(recs), [], tmp_path, run_id="r", n_boot=10, plots=False)
    md, html = (out / "claims.md").read_text(), (out / "claims.html").read_text()
    row = next(line for line in md.splitlines() if "| merge " in line)
    assert [c.strip() for c in row.split("|")][5] == cell and f"<td>{cell}</td>" in html  # thinks
    assert (THINKS_UNKNOWN_NOTE in md) == (THINKS_UNKNOWN_NOTE in html) == (thought is None)
