"""claims.html: the report for a browser, read top-down; every piece of text escaped.

Summary and contents first, then the plots, the verdict matrices (each cell links to its
evidence row and its plots), the evidence (known findings marked), per-curve tables, and
the settings last (see `evals.report.layout` for the order and the anchors).
"""
from __future__ import annotations

from html import escape

from evals.report import layout
from evals.report.tables import CURVE_HEADERS, VERDICT_HEADERS, curve_notes, curve_rows, verdict_rows

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.holds{background:#d9f2d9}
.fails{background:#f8d0d0}.inconclusive{background:#f4efcf}img{max-width:32%;margin:.5em 0}
.warning{background:#fff3cd;border:1px solid #e0c36c;padding:.6em}.known{font-style:italic}
.plots{display:flex;flex-wrap:wrap;gap:1%}tr:target{outline:3px solid #4a7bd0}"""


def _e(x) -> str:
    return escape(str(x), quote=True)


def _table(headers, rows, status_cols=(), row_ids=None, row_classes=None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for n, r in enumerate(rows):
        cells = []
        for i, x in enumerate(r):
            status = str(x).split(" ")[0]
            cls = f' class="{status}"' if i in status_cols and status in ("holds", "fails", "inconclusive") else ""
            cells.append(f"<td{cls}>{_e(x)}</td>")
        rid = f' id="{_e(row_ids[n])}"' if row_ids else ""
        rcls = f' class="{_e(row_classes[n])}"' if row_classes and row_classes[n] else ""
        body.append(f"<tr{rid}{rcls}>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(data: dict) -> list[str]:
    s = layout.summary(data)
    items = [("pairs", s["pairs"]), ("methods", s["methods"]), ("benchmarks", s["benchmarks"])]
    parts = ['<section id="summary"><h2>Summary</h2><ul>']
    parts += [f"<li><b>{_e(k)}</b>: {_e(', '.join(map(str, v)) or '-')}</li>" for k, v in items]
    parts.append(f"<li><b>verdicts</b>: <span class=\"holds\">{s['holds']} held</span>, "
                 f"<span class=\"fails\">{s['fails']} failed</span>, "
                 f"<span class=\"inconclusive\">{s['inconclusive']} inconclusive</span>"
                 + (f" ({s['known']} of them known findings)" if s["known"] else "") + "</li></ul>")
    parts.append(f"<p>{_e(data['note'])}</p>")
    if s["warning"]:
        parts.append(f'<p class="warning" id="smoke-warning">{_e(s["warning"])}</p>')
    parts.append("</section>")
    return parts


def _matrix(m: dict, known: dict) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in ["claim"] + m["methods"])
    body = []
    for title, cells in m["rows"]:
        tds = [f"<td>{_e(title)}</td>"]
        for method, cell in zip(m["methods"], cells):
            if cell is None:
                tds.append("<td>-</td>")
                continue
            status, i = cell
            mark = " (known)" if (layout.known_key_of(m, title, method) in known) else ""
            plot = f' <a href="#{_e(m["plot"])}">plot</a>' if m["plot"] else ""
            tds.append(f'<td class="{_e(status)}"><a href="#{layout.verdict_anchor(i)}">{_e(status)}</a>'
                       f"{_e(mark)}{plot}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(data: dict) -> str:
    verdicts = layout.row_verdicts(data)
    known = layout.known_reasons(data)
    groups = layout.plot_groups(data)
    toc = [("summary", "Summary")] + ([("plots", "Plots")] if groups else []) + [
        ("verdicts", "Verdicts"), ("evidence", "Evidence"), ("curves", "Curves"), ("settings", "Settings")]
    parts = [f"<h1>Claim verification: run {_e(data['run_id'])}</h1>", f"<p>Created {_e(data['created'])}.</p>"]
    parts += _summary(data)
    parts.append('<nav id="contents"><h2>Contents</h2><ol>'
                 + "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in toc) + "</ol></nav>")
    if groups:
        parts.append('<section id="plots"><h2>Plots</h2>')
        for pair, bench, anchor, files in groups:
            parts.append(f'<h3 id="{_e(anchor)}">{_e(pair)} / {_e(bench)}</h3><div class="plots">')
            parts += [f'<img src="{_e(f)}" alt="{_e(f)}">' for f in files]
            parts.append("</div>")
        parts.append("</section>")
    parts.append('<section id="verdicts"><h2>Verdicts</h2>')
    for m in layout.matrices(data):
        parts += [f"<h3>{_e(m['pair'])} / {_e(m['benchmark'])}</h3>", _matrix(m, known)]
    parts.append("</section>")
    rows, classes = verdict_rows(verdicts), []
    for v, r in zip(data["verdicts"], rows):
        reason = known.get(layout.known_key(v))
        classes.append("known" if reason else None)
        if reason:
            r[4] = f"{r[4]} (known finding)"
            r[5] = f"{r[5]} Known finding: {reason}"
    parts += ['<section id="evidence"><h2>Evidence</h2>',
              _table(VERDICT_HEADERS, rows, (4,), [layout.verdict_anchor(i) for i in range(len(rows))], classes),
              "</section>"]
    parts.append('<section id="curves"><h2>Curves</h2>')
    for c in data["curves"]:
        flag = " (parents inferred from lam 0/1 merge points)" if c["parents_inferred"] else ""
        parts += [f"<h3>{_e(c['pair'])} / {_e(c['method'])} / {_e(c['benchmark'])}{_e(flag)}</h3>",
                  _table(CURVE_HEADERS, curve_rows(c["points"]))]
        parts += [f"<p>{_e(n)}</p>" for n in curve_notes(c["points"])]
    parts.append('</section><section id="settings"><h2>Settings</h2>')
    for title, items in layout.settings(data):
        if items:
            parts += [f"<h3>{_e(title)}</h3>", _table(["setting", "value"], [list(x) for x in items])]
    parts.append("</section>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>Claims {_e(data['run_id'])}</title><style>{STYLE}</style></head>"
            f"<body>\n" + "\n".join(parts) + "\n</body></html>\n")
