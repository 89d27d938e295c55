"""Report files, escaping, reports/latest, the terminal table, and the report/analyze CLIs."""
from __future__ import annotations

import argparse
import json
import os

import pytest

from evals import cli as spectrum_cli
from evals.analysis import cli as analyze_cli
from evals.claims.catalog import judge_all
from evals.analysis.synthetic import synthetic_curve
from evals.records import SampleRecord
from evals.report import cli as report_cli
from evals.report import format_verdict_table, write_report

pytestmark = pytest.mark.fast

LAMS = [0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 1.0]
STEP = [0.3 if x < 0.65 else 0.8 for x in LAMS]
TOK = [1000 + 9000 * x for x in LAMS]
B = 100


@pytest.fixture(scope="module")
def nasty():
    """Curves whose labels carry HTML, to prove the page escapes what models and users write."""
    curves = [synthetic_curve("linear", LAMS, STEP, TOK, pair="a&b", benchmark="<bench>", n_problems=40),
              synthetic_curve("<script>alert(1)</script>", LAMS, STEP, TOK, pair="a&b",
                              benchmark="<bench>", n_problems=40)]
    return curves, judge_all(curves, n_boot=B)


def test_report_files_appear_and_html_is_escaped(tmp_path, nasty):
    curves, verdicts = nasty
    out = write_report(curves, verdicts, tmp_path / "reports", run_id="r1",
                       meta={"model": "<b>bold</b>"}, n_boot=B)
    assert out == tmp_path / "reports" / "r1"
    names = sorted(p.name for p in out.iterdir())
    assert {"claims.md", "claims.json", "claims.html"} <= set(names)
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == 3 and all(n.startswith(("acc_vs_lam__", "tokens_vs_lam__", "pareto__")) for n in pngs)
    for n in pngs:
        assert (out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "claims.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "a&amp;b" in html
    data = json.loads((out / "claims.json").read_text())
    assert len(data["verdicts"]) == len(verdicts) and data["counts"]["total"] == len(verdicts)
    assert data["thresholds"]["level"] == 0.95 and data["curves"][0]["points"][0]["role"] == "direct"
    md = (out / "claims.md").read_text()
    assert "| Phase transition" in md and "verdicts" in md.lower() and "accuracy [CI]" in md
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]  # no temp left


def test_latest_follows_the_newest_report_and_reruns_replace(tmp_path, nasty):
    curves, verdicts = nasty
    root = tmp_path / "reports"
    write_report(curves, verdicts, root, run_id="r1", n_boot=B, plots=False)
    write_report(curves[:1], verdicts[:1], root, run_id="r2", n_boot=B, plots=False)
    latest = root / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "r2"
    assert json.loads((latest / "claims.json").read_text())["run_id"] == "r2"
    write_report(curves[:1], verdicts[:2], root, run_id="r1", n_boot=B, plots=False)
    assert len(json.loads((root / "r1" / "claims.json").read_text())["verdicts"]) == 2
    assert os.readlink(latest) == "r1"


def test_latest_falls_back_to_a_copy_without_symlinks(tmp_path, nasty, monkeypatch):
    curves, verdicts = nasty

    def no_symlinks(*a, **k):
        raise OSError("symlinks not permitted here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    root = tmp_path / "reports"
    write_report(curves, verdicts, root, run_id="r1", n_boot=B, plots=False)
    write_report(curves, verdicts, root, run_id="r2", n_boot=B, plots=False)
    latest = root / "latest"
    assert latest.is_dir() and not latest.is_symlink()
    assert json.loads((latest / "claims.json").read_text())["run_id"] == "r2"


@pytest.mark.parametrize("run_id", ["latest", "../escape", "a/b", ""])
def test_bad_run_ids_are_refused(tmp_path, nasty, run_id):
    curves, verdicts = nasty
    if run_id == "":
        out = write_report(curves, verdicts, tmp_path, run_id=None, n_boot=B, plots=False)
        assert out.parent == tmp_path and out.name != "latest"
        return
    with pytest.raises(ValueError, match="run id"):
        write_report(curves, verdicts, tmp_path, run_id=run_id, n_boot=B, plots=False)


def test_verdict_table_for_the_terminal(nasty):
    _, verdicts = nasty
    text = format_verdict_table(verdicts)
    assert text.splitlines()[0].split() == ["claim", "pair", "method", "benchmark", "verdict", "samples", "evidence"]
    assert "Phase transition" in text and "holds" in text
    assert "checks reached a verdict" not in text
    assert "checks reached a verdict" in format_verdict_table(verdicts, note=True).splitlines()[-1]
    assert format_verdict_table([]) == "no claims were judged"


def _run(module, argv):
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


CSV = """method,lam,benchmark,accuracy,mean_tokens,n
direct,0,aime25,46.6,{t0},30
thinking,1,aime25,80.4,{t1},30
linear,0.2,aime25,46.7,{t2},30
linear,0.4,aime25,50.0,{t3},30
linear,0.6,aime25,56.7,{t4},30
linear,0.7,aime25,76.7,{t5},30
linear,0.8,aime25,80.0,{t6},30
"""


@pytest.mark.parametrize("with_tokens", [True, False])
def test_spectrum_analyze_on_a_small_table(tmp_path, capsys, with_tokens):
    toks = [15097, 22813, 15500, 16000, 12681, 18000, 20000] if with_tokens else [""] * 7
    table = tmp_path / "published.csv"
    table.write_text(CSV.format(**{f"t{i}": t for i, t in enumerate(toks)}))
    rc = _run(analyze_cli, ["analyze", str(table), "--report-dir", str(tmp_path / "rep"),
                            "--run-id", "pub", "--n-boot", str(B)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "Phase transition" in printed and f"report: {tmp_path / 'rep' / 'pub'}" in printed
    data = json.loads((tmp_path / "rep" / "pub" / "claims.json").read_text())
    by_claim = {v["claim"]: v for v in data["verdicts"]}
    assert by_claim["phase_transition"]["status"] in ("holds", "inconclusive", "fails")
    if with_tokens:
        assert by_claim["pareto"]["status"] == "holds"  # lam=0.6: +10 pts over direct, fewer tokens
        assert "vs direct" in by_claim["pareto"]["message"]
    else:
        assert by_claim["pareto"]["status"] == "inconclusive"
        assert "token counts are missing" in by_claim["pareto"]["message"]
        assert by_claim["routing_gain"]["status"] == "inconclusive"


def _record(method, lam, pid, correct, tokens):
    return SampleRecord(model=f"m@{lam}", model_fingerprint=f"{method}@{lam}", pair="tiny", method=method,
                        lam=lam, benchmark="synthetic", benchmark_version="1", problem_id=pid,
                        sample_index=0, prompt_mode="chat_template", sampling={}, seed=0, text="<b>",
                        generated_tokens=tokens, reasoning_tokens=0, answer_tokens=tokens,
                        finish_reason="stop", truncated=False, malformed=False, correct=correct,
                        extracted=None, meta={"thought": lam >= 0.5})


def test_spectrum_report_rebuilds_from_a_store_with_a_torn_last_line(tmp_path, capsys):
    lines = [_record(None if lam in (0.0, 1.0) else "linear", lam, f"q{i:02d}", (i % 10) < 3 + 5 * (lam > 0.5),
                     100 + int(1000 * lam) + i).to_json()
             for lam in (0.0, 0.25, 0.5, 0.75, 1.0) for i in range(20)]
    store = tmp_path / "results" / "tiny.jsonl"
    store.parent.mkdir()
    store.write_text("\n".join(lines) + "\n" + lines[0][:40])  # killed mid-write
    assert len(report_cli.read_records(store)) == 100
    assert len(report_cli.read_records(store.parent)) == 100
    rc = _run(report_cli, ["report", str(store.parent), "--report-dir", str(tmp_path / "rep"),
                           "--run-id", "tiny", "--n-boot", str(B), "--no-plots"])
    assert rc == 0 and "report:" in capsys.readouterr().out
    data = json.loads((tmp_path / "rep" / "tiny" / "claims.json").read_text())
    assert data["meta"]["records"] == 100
    pts = data["curves"][0]["points"]
    assert [p["lam"] for p in pts] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert pts[-1]["accuracy"] == pytest.approx(0.8) and pts[-1]["thought_rate"] == 1.0


def test_spectrum_report_refuses_a_corrupt_middle_line(tmp_path):
    good = _record("linear", 0.5, "q1", True, 10).to_json()
    store = tmp_path / "bad.jsonl"
    store.write_text(good + "\n{not json\n" + good + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        report_cli.read_records(store)


def test_subcommands_are_registered():
    assert {"evals.report.cli", "evals.analysis.cli"} <= set(spectrum_cli.SUBCOMMANDS.values())
