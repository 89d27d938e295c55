"""What a report shows, in reading order, as plain data both renderers (HTML, Markdown) use.

Order: a summary (pairs, methods, benchmarks, how many verdicts held / failed / were
inconclusive, a smoke-run warning when the points are too small to be evidence), the
plots per (pair, benchmark), the verdict matrices whose cells link to their evidence row
and plot, the evidence (known findings marked), the per-curve tables, settings last.
Anchors: `v<i>` for data['verdicts'][i], `plots-<tag>` for a (pair, benchmark)'s plots.
"""
from __future__ import annotations

from collections import defaultdict

from evals.claims.catalog import CLAIMS, TITLES, Verdict
from evals.report.plots import plot_tag

def verdict_anchor(i: int) -> str:
    return f"v{i}"


def plot_anchor(pair: str, benchmark: str) -> str:
    return f"plots-{plot_tag(pair, benchmark)}"


def known_key(v: dict) -> tuple:
    return (v["claim"], v["pair"], v["method"], v["benchmark"])


def summary(data: dict) -> dict:
    """Pairs, methods, benchmarks, verdict counts and the smoke-run warning (or None)."""
    curves = data["curves"]
    # one source: evals.claims.verdicts.smoke_run_line (Thresholds.min_problems / min_samples)
    smoke = data.get("smoke_run")
    warning = f"{smoke[:1].upper()}{smoke[1:]}" if smoke else None
    c = data.get("counts") or {}
    return {
        "pairs": list(dict.fromkeys(x["pair"] for x in curves)),
        "methods": list(dict.fromkeys(x["method"] for x in curves)),
        "benchmarks": list(dict.fromkeys(x["benchmark"] for x in curves)),
        "holds": c.get("holds", 0), "fails": c.get("fails", 0), "inconclusive": c.get("inconclusive", 0),
        "known": len(data.get("known") or []),
        "warning": warning,
    }


def plot_groups(data: dict) -> list[tuple[str, str, str, list[str]]]:
    """(pair, benchmark, anchor, plot files) per (pair, benchmark) that has plots."""
    plots = data.get("plots") or {}
    out, seen = [], set()
    for c in data["curves"]:
        key = (c["pair"], c["benchmark"])
        files = plots.get(f"{key[0]} / {key[1]}")
        if key in seen or not files:
            continue
        seen.add(key)
        out.append((key[0], key[1], plot_anchor(*key), list(files)))
    return out


def matrices(data: dict) -> list[dict]:
    """Per (pair, benchmark): methods and rows claim -> [(status, verdict index) or None per method]."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, v in enumerate(data["verdicts"]):
        groups[(v["pair"], v["benchmark"])].append(i)
    has_plots = {(p, b) for p, b, _, _ in plot_groups(data)}
    out = []
    for (pair, bench), idx in groups.items():
        vs = data["verdicts"]
        methods = list(dict.fromkeys(vs[i]["method"] for i in idx))
        cell = {(vs[i]["claim"], vs[i]["method"]): i for i in idx}
        rows = [(TITLES.get(c, c), [(vs[cell[(c, m)]]["status"], cell[(c, m)]) if (c, m) in cell else None
                                    for m in methods])
                for c in CLAIMS if any(vs[i]["claim"] == c for i in idx)]
        out.append({"pair": pair, "benchmark": bench, "methods": methods, "rows": rows,
                    "plot": plot_anchor(pair, bench) if (pair, bench) in has_plots else None})
    return out


def known_key_of(matrix: dict, title: str, method: str) -> tuple:
    """The known-findings key of one matrix cell (claim title back to its name)."""
    claim = next((c for c in CLAIMS if TITLES.get(c, c) == title), title)
    return (claim, matrix["pair"], method, matrix["benchmark"])


def row_verdicts(data: dict) -> list[Verdict]:
    """data['verdicts'] as the Verdicts the evidence rows are read from (tables.verdict_rows
    reads the sample count alone of their numbers, so the rest is not rebuilt)."""
    return [Verdict.from_dict({**v, "numbers": {k: v["numbers"][k] for k in ("samples",) if k in v["numbers"]}})
            for v in data["verdicts"]]


def known_reasons(data: dict) -> dict[tuple, str]:
    return {(k["claim"], k["pair"], k["method"], k["benchmark"]): k["reason"] for k in data.get("known") or []}


def readable(value, nested: bool = False) -> str:
    """A setting's value for people: dicts as 'k v, k v' (';' between entries holding lists,
    nested dicts in parentheses), lists comma-joined, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        if not value:
            return "-"
        sep = "; " if any(isinstance(v, (list, tuple, dict)) for v in value.values()) else ", "
        text = sep.join(f"{k} {readable(v, True)}" for k, v in value.items())
        return f"({text})" if nested else text
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(v, True) for v in value) or "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings(data: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(name, readable value)]) for the run, the bootstrap and the thresholds."""
    boot = data.get("bootstrap") or {}
    return [
        ("Run", [(str(k), readable(v)) for k, v in (data.get("meta") or {}).items()]),
        ("Bootstrap", [(str(k), readable(v)) for k, v in boot.items()]),
        ("Thresholds (declared once in evals/claims/verdicts.py, not tuned per run)",
         [(str(k), readable(v)) for k, v in (data.get("thresholds") or {}).items()]),
    ]
