"""The rubric judge from the command line: which judge the flags build, and scoring records'
answers (text after </think>) against their writing prompts, checked by hand."""
from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from evals.benchmarks.base import Problem
from evals.grading.judge import OpenAIJudge, Rubric, benchmark_score
from evals.grading.judging import (add_judge_options, format_scores, judge_from_args, rubric_from_args, rubric_scores,
                                   score_records)
from evals.tests.records_factory import make_record

pytestmark = pytest.mark.fast

RUBRIC = Rubric(criteria=("Imagery",), negative=("Purple Prose",),
                template="{writing_prompt}|{test_model_response}|{creative_writing_criteria}|{lower_is_better_criteria}")


class ScriptedJudge:
    """Scores by the answer it is shown: 'good' -> Imagery 16, Purple Prose 2; else 8 and 10."""

    def __init__(self):
        self.prompts = []

    def complete(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return "Imagery: 16\nPurple Prose: 2" if "|good|" in prompt else "Imagery: 8\nPurple Prose: 10"


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_judge_options(p)
    return p.parse_args(list(argv))


def test_scores_the_answer_after_think_against_its_prompt():
    problems = [Problem("a/1", "write about rain", ""), Problem("b/1", "write about sun", "")]
    recs = [replace(make_record("a/1"), text="<think>plan</think>good"), replace(make_record("b/1"), text="meh")]
    judge = ScriptedJudge()
    pieces = score_records(judge, RUBRIC, problems, recs)
    assert judge.prompts[0] == "write about rain|good|- Imagery|Purple Prose"
    # (16 + (20 - 2)) / 2 = 17 and (8 + (20 - 10)) / 2 = 9; EQ-Bench score = 5 x mean = 65
    assert [p.score_0_20 for p in pieces] == [17.0, 9.0]
    assert benchmark_score(pieces) == pytest.approx(65.0)


@pytest.mark.parametrize("argv, message", [
    (["--judge-url", "http://h/v1"], "needs --judge-model"),
    (["--judge-model", "m"], "needs --judge-url"),
    (["--judge-url", "http://h/v1", "--judge-model", "m", "--judge-local", "d"], "pick one"),
])
def test_half_given_judge_flags_say_what_is_missing(argv, message):
    with pytest.raises(ValueError, match=message):
        judge_from_args(_args(*argv))


def test_endpoint_judge_and_no_judge():
    assert judge_from_args(_args()) is None
    j = judge_from_args(_args("--judge-url", "http://h:8000/v1/", "--judge-model", "m"))
    assert isinstance(j, OpenAIJudge) and j.url == "http://h:8000/v1/chat/completions" and j.model == "m"


def test_scores_per_model_and_the_rubric_folder(tmp_path):
    problems = [Problem("a/1", "rain", "")]
    recs = [replace(make_record("a/1", model="m1"), text="good"), replace(make_record("a/1", model="m2"), text="x")]
    scores = rubric_scores(ScriptedJudge(), RUBRIC, problems, recs)
    assert scores == {"m1": (85.0, 1, 1), "m2": (45.0, 1, 1)}  # 5 x 17 and 5 x 9
    assert format_scores(scores).splitlines()[0] == "rubric score (0-100) m1: 85.00 over 1 of 1 pieces"
    with pytest.raises(ValueError, match="--judge-rubric"):
        rubric_from_args(_args(), None)
    with pytest.raises(FileNotFoundError, match="creative_writing_criteria.txt"):
        rubric_from_args(_args(), str(tmp_path))  # a data folder without the criteria files
