"""prompt_mode chatml_system reproduces the Qwen2.5-Math harness the paper ran (prompt type
"qwen25-no-cot", no chat template) byte for byte: each benchmark's rendered prompt is
compared with a literal string written out from the harness's construction."""
import json

import pytest

from evals.benchmarks.registry import get_benchmark
from evals.prompting import render_prompt

pytestmark = pytest.mark.fast

SYSTEM = "<|im_start|>system\nPlease anwser the question and put your final answer within \\boxed{}.<|im_end|>\n"


def _load(tmp_path, name, row):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (p,) = get_benchmark(name).load(str(path))
    return render_prompt(None, p, get_benchmark(name), "chatml_system")


@pytest.mark.parametrize("name, row, expected", [
    ("aime24", {"id": 1, "problem": "Find the number of positive integers $n \\le 100$ with $n^2 \\equiv 1 \\pmod 8$.\n",
                "answer": "50"},
     SYSTEM + "<|im_start|>user\nFind the number of positive integers $n \\le 100$ with $n^2 \\equiv 1 \\pmod 8$."
     "<|im_end|>\n<|im_start|>assistant\n"),
    ("aime25", {"problem": "  Let $x+y=7$ and $xy=10$. Find $x^3+y^3$.", "answer": "133"},
     SYSTEM + "<|im_start|>user\nLet $x+y=7$ and $xy=10$. Find $x^3+y^3$.<|im_end|>\n<|im_start|>assistant\n"),
    ("hmmt25", {"problem_idx": 4, "problem": "Compute $\\sum_{k=1}^{5} k!$.", "answer": "153"},
     SYSTEM + "<|im_start|>user\nCompute $\\sum_{k=1}^{5} k!$.<|im_end|>\n<|im_start|>assistant\n"),
    ("gpqa_diamond", {"question": "Which state has the longest lifetime?\n", "choices": [" 2p", "3d", "2s ", "4f"],
                      "answer": 2},
     SYSTEM + "<|im_start|>user\nWhich state has the longest lifetime?\nAnswer Choices: (A) 2p (B) 3d (C) 2s (D) 4f"
     "<|im_end|>\n<|im_start|>assistant\n"),
    ("gpqa_diamond", {"question": "Pick the base.", "options": ["NaOH", "HCl", "HNO3", "H2SO4"], "answer": "A"},
     SYSTEM + "<|im_start|>user\nPick the base.\nAnswer Choices: (A) NaOH (B) HCl (C) HNO3 (D) H2SO4"
     "<|im_end|>\n<|im_start|>assistant\n"),
])
def test_paper_prompt_literal(tmp_path, name, row, expected):
    assert _load(tmp_path, name, row) == expected


def test_gpqa_hub_schema_uses_its_fixed_shuffled_order(tmp_path):
    row = {"Question": "Q?", "Correct Answer": "right", "Incorrect Answer 1": "w1", "Incorrect Answer 2": "w2",
           "Incorrect Answer 3": "w3"}
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (p,) = get_benchmark("gpqa_diamond").load(str(path))
    shown = " ".join(f"({'ABCD'[i]}) {o}" for i, o in enumerate(p.meta["options"]))
    assert render_prompt(None, p, get_benchmark("gpqa_diamond"), "chatml_system") == (
        SYSTEM + f"<|im_start|>user\nQ?\nAnswer Choices: {shown}<|im_end|>\n<|im_start|>assistant\n")
