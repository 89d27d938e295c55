"""Prompt modes: the model's chat template, the paper's raw ChatML system prompt, raw text."""
import pytest

from evals.benchmarks.base import Problem
from evals.benchmarks.registry import get_benchmark
from evals.prompting import PAPER_SYSTEM_PROMPT, render_prompt

pytestmark = pytest.mark.fast

PROBLEM = Problem(id="1", prompt="Find x.\nPlease reason step by step.", gold="1", meta={"question": "Find x."})


def test_chat_template(char_tok):
    out = render_prompt(char_tok, PROBLEM, get_benchmark("aime24"))
    assert out == f"<|im_start|>user\n{PROBLEM.prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n"


def test_paper_chatml_uses_bare_question(char_tok):
    out = render_prompt(char_tok, PROBLEM, get_benchmark("aime24"), "chatml_system")
    assert out == (f"<|im_start|>system\n{PAPER_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nFind x.<|im_end|>\n"
                   "<|im_start|>assistant\n")
    assert "anwser" in PAPER_SYSTEM_PROMPT  # the paper's wording, typo included


def test_raw_and_unknown_modes(char_tok):
    assert render_prompt(None, PROBLEM, get_benchmark("aime24"), "raw") == PROBLEM.prompt
    with pytest.raises(ValueError, match="unknown prompt mode"):
        render_prompt(char_tok, PROBLEM, get_benchmark("aime24"), "fancy")


def test_missing_chat_template_names_the_fix():
    class NoTemplate:
        chat_template = None
        name_or_path = "bare"

    with pytest.raises(ValueError, match="--prompt-mode chatml_system"):
        render_prompt(NoTemplate(), PROBLEM, get_benchmark("aime24"))
