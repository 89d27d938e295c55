"""The token bill against hand counts (measured parents, the stated prior), `spectrum plan` on
the 4B config with its published shapes, and `spectrum sweep` printing the bill and the actual
figures."""
from dataclasses import replace
from pathlib import Path

import pytest

import evals.sweep.cli as sweep_cli
from evals.cli import main
from evals.sweep.bill import PRIOR_SHARE, token_bill
from evals.sweep.config import SweepConfig
from evals.tests.records_factory import make_record

pytestmark = pytest.mark.fast


def parent_records(direct_tokens, think_tokens):
    out = []
    for lam, toks in ((0.0, direct_tokens), (1.0, think_tokens)):
        for i, t in enumerate(toks):
            out.append(replace(make_record(f"q{i}", tokens=t, lam=lam), benchmark="synthetic"))
    return out


def test_bill_from_measured_parent_lengths():
    cfg = SweepConfig.from_mapping({"pair": "tiny", "methods": ["linear"], "lams": [0.0, 0.5, 1.0]})
    recs = parent_records([3, 5], [20, 28])  # means 4 and 24
    b = token_bill(cfg, recs, {"synthetic": 10})
    # parents 4 and 24 per sample, merges 4, 14, 24; 10 problems x 1 sample each
    assert [r.tokens for r in b.rows] == [40.0, 240.0, 40.0, 140.0, 240.0]
    assert b.total == 700.0 and b.samples == 50 and {r.source for r in b.rows} == {"measured"}
    assert b.ceiling == 40 + 240 + 3 * 240


def test_bill_falls_back_to_the_stated_prior():
    cfg = SweepConfig.from_mapping({"pair": "tiny", "methods": ["linear"], "lams": [0.5],
                                    "sampling": {"max_new_tokens": 1000}})
    b = token_bill(cfg, [], {"synthetic": 2})
    direct, think = PRIOR_SHARE["direct"] * 1000, PRIOR_SHARE["think"] * 1000
    assert b.total == pytest.approx(2 * (direct + think + (direct + think) / 2))
    assert {r.source for r in b.rows} == {"prior"}


def test_spectrum_plan_on_the_4b_config(capsys):
    assert main(["plan", "configs/qwen3-4b.yaml", "--summary", "--gpu-gb", "80,141", "--tokens-per-second", "2500",
                 "--model-config", "configs/shapes/qwen3-4b.json", "--results", "/nonexistent/none.jsonl"]) == 0
    out = capsys.readouterr().out
    # 101 points x (3 AIME-type x 30 problems x 10 samples + 198 GPQA x 2)
    assert "101 points, 130,896 samples" in out
    assert "112.1 GB  does not fit" in out and "change: parents: host" in out and "112.1 GB  fits" in out


def test_spectrum_plan_says_what_to_give_without_a_model_config(capsys):
    assert main(["plan", "configs/qwen3-4b.yaml", "--summary", "--results", "/nonexistent/none.jsonl"]) == 0
    assert "give --model-config FILE" in capsys.readouterr().out


def test_sweep_prints_the_bill_and_the_actual_figures(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("pair: tiny\nmethods: [linear]\nlams: [0.5]\nlimit: 2\nthreads: 1\n")
    assert main(["sweep", str(cfg), "--results", str(tmp_path / "r.jsonl"), "--no-report", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "token bill: 3 points, 6 samples" in out  # parents, lam 0.5: 2 problems x 1 sample each
    assert "actual: 3 points, 6 samples" in out and "in this run" in out


def test_spectrum_plan_bills_tagged_and_top_share_methods(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text((Path("configs/qwen3-4b.yaml").read_text()
                    .replace('methods: [linear, slerp, dare, "dare(p=0.9)", ties, "ties(density=0.2)", emr, lore, twin]',
                             "methods: [surgical, keep_direct, {method: linear, schedule: {default: 0.5}},\n"
                             "          {method: override, paper_compat: true}]")))
    assert main(["plan", str(cfg), "--summary", "--gpu-gb", "141", "--model-config", "configs/shapes/qwen3-4b.json",
                 "--results", "/nonexistent/none.jsonl"]) == 0
    out = capsys.readouterr().out
    # one int32 ranking key per entry: 4 bytes x 4.02 B parameters
    assert "merge states (float32)                   16.1 GB" in out, out


@pytest.mark.parametrize("flag, expected", [([], None), (["--judge-workers", "1"], 1), (["--judge-workers", "3"], 3)])
def test_sweep_hands_judge_workers_to_judging(tmp_path, monkeypatch, capsys, flag, expected):
    seen = {}

    def judge(curves, meta, **kw):
        seen.update(kw)
        raise SystemExit(0)  # stop after the hand-over: the report itself is tested elsewhere

    monkeypatch.setattr(sweep_cli, "judge_and_report", judge)
    cfg = tmp_path / "s.yaml"
    cfg.write_text("pair: tiny\nmethods: [linear]\nlams: [0.5]\nlimit: 2\nthreads: 1\n")
    with pytest.raises(SystemExit):
        main(["sweep", str(cfg), "--results", str(tmp_path / "r.jsonl"), "--report-dir", str(tmp_path), "--quiet",
              *flag])
    assert seen["workers"] == expected
