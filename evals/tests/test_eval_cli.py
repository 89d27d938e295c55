"""`spectrum eval` on a tiny saved checkpoint: writes records, resumes, reports errors plainly."""
import argparse
import json

import pytest

from evals import eval_cli
from evals.store import ResultsStore

pytestmark = pytest.mark.fast


def _main(argv):
    parser = argparse.ArgumentParser(prog="spectrum")
    eval_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", *argv])
    return args.func(args)


@pytest.fixture()
def ckpt(tmp_path, char_tok, tiny_model):
    d = tmp_path / "tiny-think"
    tiny_model.save_pretrained(d)
    char_tok.save_pretrained(d)
    return d


def test_eval_writes_and_resumes(tmp_path, ckpt, capsys):
    data = tmp_path / "hmmt.jsonl"
    data.write_text("".join(json.dumps({"problem_idx": i, "problem": f"P{i}", "answer": "\\frac{1}{2}"}) + "\n"
                            for i in range(3)))
    results = tmp_path / "r.jsonl"
    argv = ["--model", str(ckpt), "--benchmark", "hmmt25", "--data", str(data), "--samples", "2",
            "--max-new-tokens", "8", "--threads", "1", "--results", str(results), "--lam", "1", "--pair", "tiny", "--no-progress"]
    assert _main(argv) == 0
    out = capsys.readouterr().out
    assert "hmmt25" in out and "6 records" in out
    recs = ResultsStore(results).records()
    assert len(recs) == 6 and {r.lam for r in recs} == {1.0} and recs[0].model == "tiny-think"
    assert recs[0].sampling["temperature"] == 0.6 and recs[0].sampling["max_new_tokens"] == 8
    size = results.stat().st_size
    assert _main(argv) == 0 and results.stat().st_size == size  # rerun: nothing new


def test_eval_missing_data_names_the_fix(tmp_path, ckpt):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        _main(["--model", str(ckpt), "--benchmark", "aime24", "--data", str(tmp_path / "none.jsonl"),
               "--results", str(tmp_path / "r.jsonl")])
