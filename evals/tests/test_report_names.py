"""Report names: plot files unique per (pair, benchmark), Markdown escaped like HTML,
stale temp folders of killed writers removed, pickle-only checkpoints refused by eval."""
import os
import subprocess
import sys

import pytest

from evals.analysis.points import Curve, Point
from evals.report.markdown import render_markdown
from evals.report.plots import plot_tag
from evals.report.writer import clean_stale_temps, write_report

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("names", [
    [("p", "x y"), ("p", "x/y"), ("p", "x_y"), ("p", "x__y")],
    [("a / b", "c"), ("a", "b / c"), ("a_", "b"), ("a", "_b")],
    [("p", "<script>"), ("p", "&lt;script&gt;"), ("p", "é"), ("p", "e")],
])
def test_plot_tags_unique(names):
    tags = [plot_tag(*n) for n in names]
    assert len(set(tags)) == len(tags)
    assert all(all(ch.isalnum() or ch in "._-" for ch in t) for t in tags)


def test_long_names_give_short_tags():
    assert len(plot_tag("p" * 300, "b" * 300)) < 140


def _curve(bench: str, method: str = "linear") -> Curve:
    pts = tuple(Point.aggregate("pr", method, lam, bench, accuracy=0.2 + 0.5 * lam, n=50, mean_tokens=100 + 900 * lam)
                for lam in (0.0, 0.25, 0.5, 0.75, 1.0))
    return Curve("pr", method, bench, pts, pts[0], pts[-1], parents_inferred=True)


def test_three_benchmarks_three_plot_sets_and_escaped_markdown(tmp_path):
    curves = [_curve("x y"), _curve("x/y"), _curve("x_y<script>alert(1)</script>")]
    out = write_report(curves, [], tmp_path, "r1", {"source": "<script>x</script>"}, n_boot=100)
    pngs = sorted(p.name for p in out.glob("acc_vs_lam__*.png"))
    assert len(pngs) == 3
    md = (out / "claims.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_markdown_cell_escapes_pipes_and_tags():
    data = {"run_id": "r", "created": "now", "note": "<b>n</b>", "meta": {"a|b": "<img src=x onerror=y>"},
            "verdicts": [], "curves": [], "plots": {}, "thresholds": {}, "counts": {}}
    md = render_markdown(data)
    assert "<img" not in md and "<b>" not in md and "a\\|b" in md


def test_stale_temp_of_dead_writer_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = tmp_path / f".r1.tmp-{dead}.abcd"
    (stale / "sub").mkdir(parents=True)
    mine = tmp_path / f".r2.tmp-{os.getpid()}.efgh"
    mine.mkdir()
    kept = tmp_path / ".hidden-user-folder"
    kept.mkdir()
    assert clean_stale_temps(tmp_path) == [stale.name]
    assert not stale.exists() and mine.exists() and kept.exists()


def test_eval_backend_refuses_pickle_only_checkpoint(tmp_path):
    from evals.backends.transformers_backend import TransformersBackend

    (tmp_path / "config.json").write_text('{"model_type": "qwen3"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(ValueError, match="pickle"):
        TransformersBackend.from_pretrained(str(tmp_path))
