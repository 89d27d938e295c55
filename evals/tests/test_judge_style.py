"""Creative-writing pieces: rubric parsing and scoring with a fake judge; style-bleed measures."""
import pytest

from evals.grading.judge import Rubric, benchmark_score, judge_piece, parse_scores
from evals.grading.style import repetition_rate, style_bleed

pytestmark = pytest.mark.fast

RUBRIC = Rubric(criteria=("Imagery", "Coherent"), negative=("Purple Prose",),
                template="Prompt: {writing_prompt}\nPiece: {test_model_response}\nCriteria:\n"
                         "{creative_writing_criteria}\nLower is better: {lower_is_better_criteria}")


class FakeJudge:
    def __init__(self, reply):
        self.reply, self.prompts = reply, []

    def complete(self, prompt):
        self.prompts.append(prompt)
        return self.reply


def test_parse_scores_drops_out_of_range():
    text = "[Scores]\nImagery: 15\nCoherent: [12]\n**Purple Prose**: 4\nBogus: 35\n"
    assert parse_scores(text) == {"Imagery": 15.0, "Coherent": 12.0, "Purple Prose": 4.0}


def test_judge_piece_and_benchmark_score():
    judge = FakeJudge("Imagery: 15\nCoherent: 12\nPurple Prose: 4")
    piece = judge_piece(judge, RUBRIC, "Write about rain.", "It rained.")
    # (15 + 12 + (20 - 4)) / 3 = 14.333; benchmark score = x5
    assert piece.score_0_20 == pytest.approx(43 / 3)
    assert "- Imagery\n- Coherent" in judge.prompts[0] and "It rained." in judge.prompts[0]
    empty = judge_piece(FakeJudge("no scores"), RUBRIC, "p", "r")
    assert empty.score_0_20 is None
    assert benchmark_score([piece, empty]) == pytest.approx(5 * 43 / 3)


def test_rubric_from_dir_names_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="creative-writing-bench"):
        Rubric.from_dir(tmp_path)


@pytest.mark.parametrize("text, rate", [
    ("a b c d e f", 0.0),
    ("a b c d a b c d", 1 / 5),  # 5 four-grams, only the last (abcd) repeats
    ("a b c d " * 3, 5 / 9),  # 9 four-grams, 4 distinct
    ("short", 0.0),
])
def test_repetition_rate(text, rate):
    assert repetition_rate(text) == pytest.approx(rate)


def test_tag_bleed():
    assert style_bleed("Once upon a time </think> there was").tag_bleed
    assert not style_bleed("Once upon a time").tag_bleed
