"""Report layout: summary counts and smoke warning, cells linked to evidence, known findings, readable settings."""
import pytest

from evals.analysis.synthetic import synthetic_curve
from evals.claims.verdicts import Verdict
from evals.report import layout
from evals.report.html_page import render_html
from evals.report.markdown import render_markdown
from evals.report.writer import build_report_data

pytestmark = pytest.mark.fast

LAMS = [0.0, 0.25, 0.5, 0.75, 1.0]


def _data(n_problems: int, meta: dict, known=None):
    curves = [synthetic_curve("linear", LAMS, [0.2, 0.2, 0.5, 0.8, 0.8], None, pair="tiny", benchmark="b",
                              n_problems=n_problems)]
    vs = [Verdict("smooth", "tiny", "linear", "b", "holds", "ok"),
          Verdict("no_collapse", "tiny", "linear", "b", "fails", "bad"),
          Verdict("phase_transition", "tiny", "linear", "b", "inconclusive", "?")]
    data, _ = build_report_data(curves, vs, "r", meta, n_boot=50, known=known)
    data["plots"] = {"tiny / b": ["acc.png"]}
    return data


@pytest.mark.parametrize("n_problems, meta, warned", [
    (40, {}, False), (40, {"tiny limit": 5}, False), (30, {}, False), (29, {}, True), (12, {}, True)])
def test_summary_counts_and_smoke_warning(n_problems, meta, warned):
    s = layout.summary(_data(n_problems, meta))
    assert (s["holds"], s["fails"], s["inconclusive"]) == (1, 1, 1)
    assert s["pairs"] == ["tiny"] and s["methods"] == ["linear"] and s["benchmarks"] == ["b"]
    assert (s["warning"] is not None) == warned


def test_cells_link_to_evidence_and_plot_and_known_marked():
    data = _data(40, {}, known={("no_collapse", "tiny", "linear", "b"): "measured on the tiny pair"})
    html, md = render_html(data), render_markdown(data)
    anchor = layout.plot_anchor("tiny", "b")
    for i in range(3):
        assert f'href="#v{i}"' in html and f'id="v{i}"' in html and f"(#v{i})" in md and f'<a id="v{i}">' in md
    assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html and f"(#{anchor})" in md
    assert html.count("(known finding)") == 1 and "Known finding: measured on the tiny pair" in html
    assert "fails (known finding)" in md
    assert html.index('id="summary"') < html.index('id="plots"') < html.index('id="evidence"') < html.index('id="settings"')
    assert md.index("## Summary") < md.index("## Plots") < md.index("## Evidence") < md.index("## Settings")


@pytest.mark.parametrize("value, text", [
    ({"temperature": 0.6, "top_p": 0.95}, "temperature 0.6, top_p 0.95"), ([0.0, 0.5, 1.0], "0, 0.5, 1"),
    (None, "-"), ({"n": {"aime": 4}}, "n (aime 4)"), ("x", "x"),
    ({"sampling": {"temperature": 0.6}, "lams": [0, 1], "limit": None}, "sampling (temperature 0.6); lams 0, 1; limit -")])
def test_settings_readable(value, text):
    assert layout.readable(value) == text


def test_settings_last_and_not_a_raw_dict():
    data = _data(40, {"tiny sampling": {"temperature": 0.6}})
    html = render_html(data)
    assert "temperature 0.6" in html and "{&#x27;temperature&#x27;" not in html and "{'temperature'" not in html
