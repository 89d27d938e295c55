"""Benchmark loading from small local files, GPQA's fixed option order, hub-less errors."""
import json
import os
import subprocess
import sys

import pytest

from evals.benchmarks.registry import get_benchmark, list_benchmarks
from evals.grading.choice import shuffle_options

pytestmark = pytest.mark.fast

GPQA_ROWS = [
    {"Question": f"Which particle number {i} is the heaviest?", "Correct Answer": f"right {i}",
     "Incorrect Answer 1": f"wrong a{i}", "Incorrect Answer 2": f"wrong b{i}", "Incorrect Answer 3": f"wrong c{i}"}
    for i in range(40)
]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_builtins_registered():
    assert {"aime24", "aime25", "hmmt25", "gpqa_diamond", "creative_writing"} <= set(list_benchmarks())
    for name in ("aime24", "aime25", "hmmt25", "gpqa_diamond", "creative_writing"):
        assert get_benchmark(name).version


@pytest.mark.parametrize("name, row", [
    ("aime24", {"id": 60, "problem": "Find x.", "answer": "204"}),
    ("aime25", {"id": "I-1", "problem": "Find y.", "answer": "70"}),
    ("hmmt25", {"problem_idx": 3, "problem": "Compute z.", "answer": "\\frac{9\\sqrt{23}}{23}"}),
])
def test_math_benchmark_loads_local_jsonl(tmp_path, name, row):
    (p,) = get_benchmark(name).load(str(_write_jsonl(tmp_path / "d.jsonl", [row])))
    assert p.gold == row["answer"] and p.meta["question"] in p.prompt and "\\boxed{}" in p.prompt
    assert p.id == str(row.get("id", row.get("problem_idx")))


def test_parquet_and_folder(tmp_path):
    from datasets import Dataset

    Dataset.from_list([{"problem": "A?", "answer": "1"}, {"problem": "B?", "answer": "2"}]).to_parquet(
        str(tmp_path / "part.parquet"))
    probs = get_benchmark("aime25").load(str(tmp_path))
    assert [p.gold for p in probs] == ["1", "2"]


def test_missing_field_names_the_fix(tmp_path):
    with pytest.raises(ValueError, match="no answer field"):
        get_benchmark("aime24").load(str(_write_jsonl(tmp_path / "d.jsonl", [{"problem": "x"}])))


def test_no_local_data_for_creative_names_the_fix():
    with pytest.raises(ValueError, match="creative-writing-bench"):
        get_benchmark("creative_writing").load(None)


def test_gpqa_gold_points_at_correct_answer(tmp_path):
    probs = get_benchmark("gpqa_diamond").load(str(_write_jsonl(tmp_path / "g.jsonl", GPQA_ROWS)))
    for p, row in zip(probs, GPQA_ROWS):
        opts = p.meta["options"]
        assert opts["ABCD".index(p.gold)] == row["Correct Answer"]
        assert sorted(opts) == sorted([row["Correct Answer"]] + [row[f"Incorrect Answer {k}"] for k in (1, 2, 3)])
        assert f"{p.gold}) {row['Correct Answer']}" in p.prompt
    # the correct answer is not parked at one letter
    assert len({p.gold for p in probs}) == 4


def test_gpqa_order_stable_across_processes_and_loads(tmp_path):
    path = _write_jsonl(tmp_path / "g.jsonl", GPQA_ROWS)
    here = [(p.prompt, p.gold) for p in get_benchmark("gpqa_diamond").load(str(path))]
    again = [(p.prompt, p.gold) for p in get_benchmark("gpqa_diamond").load(str(path))]  # e.g. the next lam
    code = ("import json,sys; from evals.benchmarks.registry import get_benchmark; "
            "print(json.dumps([(p.prompt,p.gold) for p in get_benchmark('gpqa_diamond').load(sys.argv[1])]))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert here == again == [tuple(x) for x in json.loads(out.stdout)]


def test_shuffle_depends_on_question_only():
    a = shuffle_options("Q1", "c", ["w1", "w2", "w3"])
    assert a == shuffle_options("  Q1 ", "c", ["w1", "w2", "w3"])  # surrounding whitespace ignored
    orders = {tuple(shuffle_options(f"Q{i}", "c", ["w1", "w2", "w3"])[0]) for i in range(30)}
    assert len(orders) > 6  # genuinely shuffled, not one fixed permutation


def test_creative_prompts_from_bench_folder(tmp_path):
    prompts = {"7": {"title": "t", "category": "fiction", "writing_prompt": "Write about <SEED>.",
                     "seed_modifiers": ["rain", "a lighthouse"]}}
    (tmp_path / "creative_writing_prompts_v3.json").write_text(json.dumps(prompts))
    probs = get_benchmark("creative_writing").load(str(tmp_path))
    assert [p.id for p in probs] == ["7/1", "7/2", "7/3"]
    assert [p.prompt for p in probs] == ["Write about rain.", "Write about a lighthouse.", "Write about rain."]


def test_unreachable_hub_names_the_fix(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match=r"HuggingFaceH4/aime_2024.*--data PATH"):
        get_benchmark("aime24").load(None)
    with pytest.raises(ValueError, match=r"Idavidrein/gpqa \(config gpqa_diamond\).*--data PATH"):
        get_benchmark("gpqa_diamond").load(None)
