"""The report's fast GitHub tables equal tabulate's, character for character: on the cells
a report holds (names, lams, percentages with CIs, thousands, '-'), on every kind of cell
tabulate reads as a number, bool or blank (where the fast path must hand over), and on a
whole claims.md."""
import numpy as np
import pytest
from tabulate import tabulate

from evals.analysis.synthetic import synthetic_curve
from evals.claims.catalog import judge_all
from evals.report import markdown, tables
from evals.report.writer import build_report_data
from evals.report.text_table import github_table, simple_table

pytestmark = pytest.mark.fast

TRICKY = ["0", "0.1", "1", "1e-05", "1.5e-07", "-0", "-1", "82", "007", "1,119", "3,000", "12,34", "1000000",
          "0.123456789", "1e999", "1e5", "1_000", "inf", "-Infinity", "nan", "True", "False", "true", "-", ".",
          "e", " 82", "x ", " lam", "12.0%", "45.3% [40.1, 50.2]", "[holds](#v0) [plot](#plots-a)", "a|b",
          "&lt;script&gt;", "merge", "thinking (stand-in: linear)", "+1,000.5", "1.", ".5", "", "naïve", "名前",
          "\x1b[31mred\x1b[0m", "two\nlines"]


@pytest.mark.parametrize("rows", [
    [["0", "merge", "30.3% [20.7, 40.2]", "391", "-", "82"], ["0.1", "merge", "26.5%", "1,119", "-", "82"]],
    [["1e-05", "a"], ["0.5", "b"], ["1", "c"]],  # decimal alignment after 'e'
    [["1,119", "x"], ["0.5", "y"]],  # a decimal column reprints thousands: tabulate decides
    [["82"], ["-"]],  # one '-' makes the column text
    [["True"], ["False"]], [[""], ["a"]], [["naïve"], ["b"]], [["1_000"], ["2"]], [["1e5"], ["2"]],
    [["x"]], [],
], ids=lambda r: repr(r)[:40])
def test_cases_equal_tabulate(rows):
    headers = [f"h{i}" for i in range(len(rows[0]))] if rows else ["h0"]
    assert github_table(headers, rows) == tabulate(rows, headers=headers, tablefmt="github")


@pytest.mark.parametrize("seed", range(4))
def test_random_tables_equal_tabulate(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n_rows, n_cols = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        pool = [TRICKY[i] for i in rng.choice(len(TRICKY), size=int(rng.integers(1, 6)))]
        rows = [[pool[int(rng.integers(len(pool)))] for _ in range(n_cols)] for _ in range(n_rows)]
        headers = [["lam", "n", "role", "a long header name", "x"][int(rng.integers(5))] for _ in range(n_cols)]
        assert github_table(headers, rows) == tabulate(rows, headers=headers, tablefmt="github"), rows


def test_whole_markdown_report_equals_tabulates(tmp_path, monkeypatch):
    lams = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
    curves = [synthetic_curve(m, lams, [0.2, 0.25, 0.3, 0.7, 0.75, 0.8], [300, 900, 1200, 2000, 2600, 3000],
                              pair=p, benchmark=b, n_problems=40)
              for p in ("pair|1", "p<2>") for b in ("aime", "math 500") for m in ("linear", "slerp", "ties(density=0.2)")]
    verdicts = judge_all(curves, n_boot=100, progress=False)
    data, _ = build_report_data(curves, verdicts, "run", {"source": "x.csv", "n": 3}, n_boot=100)
    fast = markdown.render_markdown(data)
    monkeypatch.setattr(markdown, "github_table", lambda h, r: tabulate(r, headers=list(h), tablefmt="github"))
    assert fast == markdown.render_markdown(data)
    assert "|   lam |" in fast  # the numeric columns took the fast path's right alignment


LONG = ("Phase transition: accuracy rises abruptly around lam=0.75 (CI 0.68-0.81); 10-90% width 0.10 [0.00, "
        "0.39] against 0.20 allowed; the lam 0.7->0.8 step carries 90% of the +21.8 pts change.")


@pytest.mark.parametrize("cells", [
    [LONG, "short"], [LONG + " " + "x" * 130, "a-very-long-hyphenated-" * 6], ["w" * 95, "  padded  "],
    ["5", LONG], [LONG, "two\nlines"], ["ünïcode " * 20, "b"], ["a", "b"]], ids=lambda c: repr(c)[:30])
@pytest.mark.parametrize("width", [90, 12])
def test_wrapped_simple_tables_equal_tabulate(cells, width):
    rows = [["Phase transition", "pair0", "linear", "bench0", "holds", "902", c] for c in cells]
    rows += [["Smooth curve", "p", "slerp", "b", "fails", "-", "x"]]
    headers = ["claim", "pair", "method", "benchmark", "verdict", "samples", "evidence"]
    want = tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=[None] * 6 + [width])
    assert simple_table(headers, rows, {6: width}) == want


def test_terminal_verdict_table_equals_tabulates(monkeypatch):
    lams = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    curves = [synthetic_curve(m, lams, [0.2, 0.2, 0.3, 0.7, 0.8, 0.8], [100, 200, 300, 400, 500, 600],
                              benchmark=b, n_problems=30) for b in ("aime", "gsm8k") for m in ("linear", "slerp")]
    verdicts = judge_all(curves, n_boot=60, progress=False)
    fast = tables.format_verdict_table(verdicts, note=True)
    monkeypatch.setattr(tables, "simple_table", lambda h, r, wrap: tabulate(
        r, headers=list(h), tablefmt="simple", maxcolwidths=[wrap.get(i) for i in range(len(h))]))
    assert fast == tables.format_verdict_table(verdicts, note=True)
    assert fast.count("\n") > len(verdicts) + 3  # evidence wrapped over several lines
