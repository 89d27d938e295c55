"""The dataset layouts users have: each test writes a small file in one schema with
made-up problems and checks what the benchmark reads from it."""
import json

import pytest

from evals.benchmarks.gpqa_schemas import harness_question
from evals.benchmarks.registry import get_benchmark
from evals.grading.choice import shuffle_options

pytestmark = pytest.mark.fast

Q = "A spin-1/2 particle sits in a field B. Which energy splitting is observed?"


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("row, options, gold, schema", [
    ({"question": Q, "choices": ["2 eV", "4 eV", "1 eV", "3 eV"], "answer": 2},
     ["2 eV", "4 eV", "1 eV", "3 eV"], "C", "harness"),
    ({"question": Q, "choices": ["2 eV", "4 eV", "1 eV", "3 eV"], "answer": "0"},
     ["2 eV", "4 eV", "1 eV", "3 eV"], "A", "harness"),
    ({"Question": Q, "Options": ["x", "y", "z", "w"], "Answer": "(D)"}, ["x", "y", "z", "w"], "D", "letter"),
    ({"question": Q, "options": {"A": "x", "B": "y", "C": "z", "D": "w"}, "answer": "b"}, ["x", "y", "z", "w"], "B", "letter"),
])
def test_gpqa_file_order_kept(tmp_path, row, options, gold, schema):
    (p,) = get_benchmark("gpqa_diamond").load(_jsonl(tmp_path / "g.jsonl", [row]))
    assert (p.meta["options"], p.gold, p.meta["schema"]) == (options, gold, schema)
    assert p.meta["question"] == f"{Q}\nAnswer Choices: " + " ".join(f"({'ABCD'[i]}) {o}" for i, o in enumerate(options))


@pytest.mark.parametrize("row", [
    {"Question": Q, "Correct Answer": "1 eV", "Incorrect Answer 1": "2 eV", "Incorrect Answer 2": "3 eV",
     "Incorrect Answer 3": "4 eV"},
    {"question": Q, "correct_answer": "1 eV", "incorrect_answer_1": "2 eV", "incorrect_answer_2": "3 eV",
     "incorrect_answer_3": "4 eV"},
    {"question": Q, "correct_answer": "1 eV", "incorrect_answers": ["2 eV", "3 eV", "4 eV"]},
])
def test_gpqa_hub_schema_shuffled_by_question_hash(tmp_path, row):
    (p,) = get_benchmark("gpqa_diamond").load(_jsonl(tmp_path / "g.jsonl", [row]))
    options, gold = shuffle_options(Q, "1 eV", ["2 eV", "3 eV", "4 eV"])
    assert (p.meta["options"], p.gold, p.meta["schema"]) == (options, gold, "hub")
    assert p.meta["options"]["ABCD".index(p.gold)] == "1 eV"


def test_gpqa_schema_announced(tmp_path, capsys):
    get_benchmark("gpqa_diamond").load(_jsonl(tmp_path / "g.jsonl", [{"question": Q, "choices": list("wxyz"), "answer": 1}]))
    assert "read 1 questions in schema 'harness'" in capsys.readouterr().err


@pytest.mark.parametrize("name, row, match", [
    ("gpqa_diamond", {"prompt": Q, "label": 1}, r"fields found: prompt, label; wanted \{question, choices"),
    ("gpqa_diamond", {"question": Q, "choices": list("wxyz"), "answer": 7}, r"answer must be an index 0\.\.3"),
    ("aime24", {"text": "Find x.", "solution": "204"}, r"no problem field \(looked for .*\); present: solution, text"),
])
def test_unreadable_schema_one_line(tmp_path, name, row, match):
    with pytest.raises(ValueError, match=match) as exc:
        get_benchmark(name).load(_jsonl(tmp_path / "d.jsonl", [row]))
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("name, row, pid, question, gold", [
    ("aime24", {"id": 60, "problem": " Find x. ", "solution": "...", "answer": "204", "url": "u", "year": 2024},
     "60", "Find x.", "204"),  # HuggingFaceH4/aime_2024
    ("aime25", {"problem": "Find y.", "answer": "70", "id": "0"}, "0", "Find y.", "70"),  # math-ai/aime25
    ("hmmt25", {"problem_idx": 3, "problem": "Compute z.", "answer": "\\frac{9\\sqrt{23}}{23}"}, "3", "Compute z.",
     "\\frac{9\\sqrt{23}}{23}"),  # MathArena/*
    ("aime25", {"question": "Find w.", "answer": "12"}, "0", "Find w.", "12"),  # opencompass/AIME2025
    ("aime24", {"ID": "2024-I-1", "Problem": "Find v.", "Answer": 33}, "2024-I-1", "Find v.", "33"),  # capitalised
    ("aime24", {"problem": "Is 7 prime?", "answer": "Yes"}, "0", "Is 7 prime? (Yes or No)", "Yes"),
])
def test_math_schemas(tmp_path, name, row, pid, question, gold):
    (p,) = get_benchmark(name).load(_jsonl(tmp_path / "d.jsonl", [row]))
    assert (p.id, p.meta["question"], p.gold) == (pid, question, gold)


def _folder(tmp_path, second_answer):
    from datasets import Dataset

    rows = [{"id": i, "problem": f"Problem {i}.", "answer": str(10 + i)} for i in range(3)]
    Dataset.from_list(rows).to_parquet(str(tmp_path / "aime.parquet"))
    converted = [dict(r) for r in rows]
    converted[1]["answer"] = second_answer
    _jsonl(tmp_path / "aime.jsonl", converted)
    return str(tmp_path)


def test_identical_duplicates_collapse_with_one_note(tmp_path, capsys):
    probs = get_benchmark("aime24").load(_folder(tmp_path, "11"))
    assert [(p.id, p.gold) for p in probs] == [("0", "10"), ("1", "11"), ("2", "12")]
    err = [ln for ln in capsys.readouterr().err.splitlines() if "duplicates" in ln]
    assert len(err) == 1 and "aime.parquet repeats 3 problems" in err[0]


def test_conflicting_duplicates_name_both_files_and_id(tmp_path):
    with pytest.raises(ValueError, match=r"aime\.jsonl and aime\.parquet .* both hold id '1' with different content"):
        get_benchmark("aime24").load(_folder(tmp_path, "99"))


def test_harness_question_layout():
    assert harness_question(" Q? ", ["a ", "b", "c", "d"]) == "Q?\nAnswer Choices: (A) a (B) b (C) c (D) d"
