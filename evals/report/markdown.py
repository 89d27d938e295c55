"""claims.md: the verdict matrix, every verdict's sentence, per-curve tables and the plots."""
from __future__ import annotations

from tabulate import tabulate

from evals.claims.catalog import Verdict
from evals.report.tables import CURVE_HEADERS, VERDICT_HEADERS, curve_rows, verdict_matrices, verdict_rows


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(data: dict) -> str:
    verdicts = [Verdict.from_dict(v) for v in data["verdicts"]]
    out = [f"# Claim verification: run {data['run_id']}", "",
           f"Created {data['created']}. {data['note']}", ""]
    if data.get("meta", {}).get("smoke_run"):
        line = str(data["meta"]["smoke_run"])
        out[1:1] = ["", f"**{_md_cell(line[:1].upper() + line[1:])}**"]
    if data.get("meta"):
        out += ["## Run", "", tabulate([[_md_cell(k), _md_cell(v)] for k, v in data["meta"].items()],
                                       headers=["setting", "value"], tablefmt="github"), ""]
    out += ["## Verdicts", ""]
    for title, headers, rows in verdict_matrices(verdicts):
        out += [f"### {_md_cell(title)}", "",
                tabulate([[_md_cell(c) for c in r] for r in rows],
                         headers=[_md_cell(h) for h in headers], tablefmt="github"), ""]
    out += ["### Evidence", "",
            tabulate([[_md_cell(c) for c in r] for r in verdict_rows(verdicts)],
                     headers=VERDICT_HEADERS, tablefmt="github"), ""]
    out += ["## Curves", ""]
    for c in data["curves"]:
        flag = " (parents inferred from lam 0/1 merge points)" if c["parents_inferred"] else ""
        out += [f"### {_md_cell(c['pair'])} / {_md_cell(c['method'])} / "
                f"{_md_cell(c['benchmark'])}{flag}", "",
                tabulate([[_md_cell(x) for x in r] for r in curve_rows(c["points"])],
                         headers=CURVE_HEADERS, tablefmt="github"), ""]
    if data.get("plots"):
        out += ["## Plots", ""]
        for title, files in data["plots"].items():
            out += [f"### {_md_cell(title)}", ""] + [f"![{f}]({f})" for f in files] + [""]
    out += ["## Thresholds", "", "Declared once in `evals/claims/verdicts.py` (Thresholds); "
            "not tuned per run.", "",
            tabulate([[k, v] for k, v in data["thresholds"].items()], headers=["threshold", "value"],
                     tablefmt="github"), ""]
    return "\n".join(out)
