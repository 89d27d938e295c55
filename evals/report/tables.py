"""Verdict and curve tables as text: the terminal summary and the markdown report share them.

`format_verdict_table(verdicts)` is what pytest's terminal summary prints: one row per
(claim, pair, method, benchmark) with the status and the verdict's sentence, wrapped.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from tabulate import tabulate

from evals.claims.catalog import TITLES, Verdict
from evals.claims.verdicts import multiplicity_note
from evals.report.text_table import simple_table

VERDICT_HEADERS = ["claim", "pair", "method", "benchmark", "verdict", "samples", "evidence"]
CURVE_HEADERS = ["lam", "role", "accuracy [CI]", "tokens", "thinks", "truncated", "malformed", "n"]
# A think rate is unknown when no sample says whether it wrote a think block (outside
# results without one, a backend that does not split reasoning from answer)
THINKS_UNKNOWN = "n/a"
THINKS_UNKNOWN_NOTE = "thinks n/a: no think-block information for this model/backend"


def _message_body(v: Verdict) -> str:
    """The sentence without its 'Claim title: ' prefix (the table has a claim column)."""
    prefix = f"{TITLES.get(v.claim, v.claim)}: "
    return v.message[len(prefix):] if v.message.startswith(prefix) else v.message


def verdict_rows(verdicts: Iterable[Verdict]) -> list[list[str]]:
    return [[TITLES.get(v.claim, v.claim), v.pair, v.method, v.benchmark, v.status,
             f"{v.numbers['samples']:,}" if "samples" in v.numbers else "-", _message_body(v)] for v in verdicts]


def format_verdict_table(verdicts: Sequence[Verdict], *, tablefmt: str = "simple",
                         width: int = 90, note: bool = False, level: float = 0.95) -> str:
    """The verdict table with the evidence wrapped at `width` characters; with `note`, a
    last line counting verdicts made vs held (multiplicity_note)."""
    verdicts = list(verdicts)
    if not verdicts:
        return "no claims were judged"
    rows = verdict_rows(verdicts)
    table = (simple_table(VERDICT_HEADERS, rows, {len(VERDICT_HEADERS) - 1: width}) if tablefmt == "simple" else
             tabulate(rows, headers=VERDICT_HEADERS, tablefmt=tablefmt, maxcolwidths=[None] * 6 + [width]))
    return f"{table}\n{multiplicity_note(verdicts, level)}" if note else table


def _rate(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def curve_rows(rows: Iterable[dict]) -> list[list[str]]:
    """Cells for the per-curve tables from summarize_curve rows (or their JSON form)."""
    out = []
    for r in rows:
        lo, hi = r["accuracy_ci"]
        acc = f"{100 * r['accuracy']:.1f}%"
        if lo is not None and hi is not None:
            acc += f" [{100 * lo:.1f}, {100 * hi:.1f}]"
        tok = "-" if r["mean_tokens"] is None else f"{r['mean_tokens']:,.0f}"
        thinks = THINKS_UNKNOWN if r["thought_rate"] is None else _rate(r["thought_rate"])
        out.append([f"{r['lam']:g}", r["role"], acc, tok, thinks,
                    _rate(r["truncated_rate"]), _rate(r["malformed_rate"]), str(r["n_problems"])])
    return out


def curve_notes(rows: Iterable[dict]) -> list[str]:
    """The footnotes a curve table needs: what an `n/a` think rate means, where one is shown."""
    return [THINKS_UNKNOWN_NOTE] if any(r["thought_rate"] is None for r in rows) else []
