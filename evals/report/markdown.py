"""claims.md: the report as Markdown, in the HTML page's reading order (`evals.report.layout`):
summary, plots, verdict matrices linking to evidence rows and plots, evidence (known
findings marked), per-curve tables, settings. Every name is HTML-escaped, as in the page.
"""
from __future__ import annotations

from html import escape

from evals.report import layout
from evals.report.tables import CURVE_HEADERS, VERDICT_HEADERS, curve_notes, curve_rows, verdict_rows
from evals.report.text_table import github_table


def _md_cell(text) -> str:
    """Text for a Markdown table cell or heading: HTML escaped (Markdown renders raw HTML,
    so a name like `<script>` must not reach the page as a tag), pipes and newlines tamed."""
    return escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _table(headers, rows) -> str:
    return github_table([_md_cell(h) for h in headers], rows)


def render_markdown(data: dict) -> str:
    verdicts = layout.row_verdicts(data)
    known = layout.known_reasons(data)
    s = layout.summary(data)
    out = [f"# Claim verification: run {_md_cell(data['run_id'])}", "", f"Created {_md_cell(data['created'])}.", "",
           "## Summary", ""]
    for k in ("pairs", "methods", "benchmarks"):
        out.append(f"- **{k}**: {_md_cell(', '.join(map(str, s[k])) or '-')}")
    out += [f"- **verdicts**: {s['holds']} held, {s['fails']} failed, {s['inconclusive']} inconclusive"
            + (f" ({s['known']} of them known findings)" if s["known"] else ""), "", _md_cell(data["note"]), ""]
    if s["warning"]:
        out += [f"> **Warning:** {_md_cell(s['warning'])}", ""]
    groups = layout.plot_groups(data)
    if groups:
        out += ["## Plots", ""]
        for pair, bench, anchor, files in groups:
            out += [f'<a id="{anchor}"></a>', "", f"### {_md_cell(pair)} / {_md_cell(bench)}", ""]
            out += [f"![{f}]({f})" for f in files] + [""]
    out += ["## Verdicts", ""]
    for m in layout.matrices(data):
        rows = []
        for title, cells in m["rows"]:
            row = [_md_cell(title)]
            for method, cell in zip(m["methods"], cells):
                if cell is None:
                    row.append("-")
                    continue
                status, i = cell
                mark = " (known)" if layout.known_key_of(m, title, method) in known else ""
                plot = f" [plot](#{m['plot']})" if m["plot"] else ""
                row.append(f"[{status}](#{layout.verdict_anchor(i)}){mark}{plot}")
            rows.append(row)
        out += [f"### {_md_cell(m['pair'])} / {_md_cell(m['benchmark'])}", "",
                _table(["claim"] + m["methods"], rows), ""]
    rows = []
    for i, (v, r) in enumerate(zip(data["verdicts"], verdict_rows(verdicts))):
        cells = [_md_cell(c) for c in r]
        cells[0] = f'<a id="{layout.verdict_anchor(i)}"></a>{cells[0]}'
        reason = known.get(layout.known_key(v))
        if reason:
            cells[4] += " (known finding)"
            cells[5] += f" *Known finding:* {_md_cell(reason)}"
        rows.append(cells)
    out += ["## Evidence", "", _table(VERDICT_HEADERS, rows), "", "## Curves", ""]
    for c in data["curves"]:
        flag = " (parents inferred from lam 0/1 merge points)" if c["parents_inferred"] else ""
        out += [f"### {_md_cell(c['pair'])} / {_md_cell(c['method'])} / {_md_cell(c['benchmark'])}{flag}", "",
                _table(CURVE_HEADERS, [[_md_cell(x) for x in r] for r in curve_rows(c["points"])]), ""]
        out += [f"*{_md_cell(n)}*\n" for n in curve_notes(c["points"])]
    out += ["## Settings", ""]
    for title, items in layout.settings(data):
        if items:
            out += [f"### {_md_cell(title)}", "", _table(["setting", "value"],
                                                         [[_md_cell(k), _md_cell(v)] for k, v in items]), ""]
    return "\n".join(out)
