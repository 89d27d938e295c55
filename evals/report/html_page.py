"""claims.html: the same report as claims.md for a browser; every piece of text escaped."""
from __future__ import annotations

from html import escape

from evals.claims.catalog import Verdict
from evals.report.tables import CURVE_HEADERS, VERDICT_HEADERS, curve_rows, verdict_matrices, verdict_rows

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.holds{background:#d9f2d9}
.fails{background:#f8d0d0}.inconclusive{background:#f4efcf}img{max-width:100%;margin:.5em 0}"""


def _table(headers, rows, status_cols=()) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = []
    for r in rows:
        cells = []
        for i, x in enumerate(r):
            cls = f' class="{escape(str(x))}"' if i in status_cols and x in ("holds", "fails", "inconclusive") else ""
            cells.append(f"<td{cls}>{escape(str(x))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(data: dict) -> str:
    verdicts = [Verdict.from_dict(v) for v in data["verdicts"]]
    parts = [f"<h1>Claim verification: run {escape(str(data['run_id']))}</h1>",
             f"<p>Created {escape(str(data['created']))}. {escape(data['note'])}</p>"]
    if data.get("meta", {}).get("smoke_run"):
        parts.insert(1, f"<p><strong>{escape(str(data['meta']['smoke_run']))}</strong></p>")
    if data.get("meta"):
        parts += ["<h2>Run</h2>", _table(["setting", "value"], [[k, v] for k, v in data["meta"].items()])]
    parts.append("<h2>Verdicts</h2>")
    for title, headers, rows in verdict_matrices(verdicts):
        parts += [f"<h3>{escape(title)}</h3>", _table(headers, rows, range(1, len(headers)))]
    parts += ["<h3>Evidence</h3>", _table(VERDICT_HEADERS, verdict_rows(verdicts), (4,))]
    parts.append("<h2>Curves</h2>")
    for c in data["curves"]:
        flag = " (parents inferred from lam 0/1 merge points)" if c["parents_inferred"] else ""
        parts += [f"<h3>{escape(c['pair'])} / {escape(c['method'])} / {escape(c['benchmark'])}"
                  f"{escape(flag)}</h3>", _table(CURVE_HEADERS, curve_rows(c["points"]))]
    if data.get("plots"):
        parts.append("<h2>Plots</h2>")
        for title, files in data["plots"].items():
            parts.append(f"<h3>{escape(title)}</h3>")
            parts += [f'<img src="{escape(f, quote=True)}" alt="{escape(f, quote=True)}">' for f in files]
    parts += ["<h2>Thresholds</h2>", "<p>Declared once in <code>evals/claims/verdicts.py</code> "
              "(Thresholds); not tuned per run.</p>",
              _table(["threshold", "value"], [[k, v] for k, v in data["thresholds"].items()])]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>Claims {escape(str(data['run_id']))}</title><style>{STYLE}</style></head>"
            f"<body>\n" + "\n".join(parts) + "\n</body></html>\n")
