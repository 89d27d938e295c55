"""PNG plots of a report, one set per (pair, benchmark), drawn with matplotlib's Agg canvas.

  acc_vs_lam__<tag>.png     accuracy vs lam, one line per method, 95% CI bars
  tokens_vs_lam__<tag>.png  mean tokens vs lam (when tokens are known)
  pareto__<tag>.png         accuracy vs tokens, every method's points, the Pareto front
                            over all of them, parents marked
<tag> is `plot_tag(pair, benchmark)`: slugs plus a hash of the exact names (unique).
Figures are built as `matplotlib.figure.Figure` objects (no pyplot state, no GUI).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from evals.analysis.pareto import pareto_front
from evals.analysis.points import Curve


def plot_tag(pair: str, benchmark: str) -> str:
    """A file-name tag unique per (pair, benchmark) whatever characters they hold: readable
    slugs plus a short hash of the exact names, so 'x y', 'x/y' and 'x_y' never collide."""
    digest = hashlib.sha1(json.dumps([pair, benchmark]).encode("utf-8")).hexdigest()[:8]
    return f"{safe_name(pair)[:60]}__{safe_name(benchmark)[:60]}__{digest}"


def safe_name(text: str) -> str:
    """A file-name-safe version of a label: 'dare(p=0.9)' -> 'dare_p_0.9_'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def _err(rows, key_ci, key, scale):
    y = np.array([np.nan if r[key] is None else r[key] * scale for r in rows], dtype=float)
    lo = np.array([np.nan if r[key_ci] is None or r[key_ci][0] is None else r[key_ci][0] * scale
                   for r in rows], dtype=float)
    hi = np.array([np.nan if r[key_ci] is None or r[key_ci][1] is None else r[key_ci][1] * scale
                   for r in rows], dtype=float)
    return y, np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])


def _vs_lam(curves, summaries, key, key_ci, scale, ylabel, title, path) -> None:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    parents = {}
    for c in curves:
        rows = [r for r in summaries[id(c)] if r["in_series"]]
        y, yerr = _err(rows, key_ci, key, scale)
        ax.errorbar([r["lam"] for r in rows], y, yerr=yerr, marker="o", ms=4, capsize=2,
                    label=c.method)
        for r in summaries[id(c)]:
            if r["role"] in ("direct", "thinking") and r[key] is not None:
                parents[r["role"]] = (r["lam"], r[key] * scale)
    for name, (x, y) in parents.items():
        ax.scatter([x], [y], s=140, marker="*" if name == "thinking" else "s", zorder=5,
                   edgecolor="black", label=name)
    ax.set_xlabel("lam (thinking weight)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _pareto(curves, summaries, title, path) -> None:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    xs, ys = [], []
    parents = {}
    for c in curves:
        rows = [r for r in summaries[id(c)] if r["mean_tokens"] is not None]
        merges = [r for r in rows if r["in_series"] and r["role"] == "merge"]
        ax.plot([r["mean_tokens"] for r in merges], [100 * r["accuracy"] for r in merges],
                marker="o", ms=4, lw=0.8, label=c.method)
        for r in rows:
            xs.append(r["mean_tokens"])
            ys.append(100 * r["accuracy"])
            if r["role"] != "merge":
                parents[r["role"].split(" ")[0]] = (r["mean_tokens"], 100 * r["accuracy"])
    if xs:
        front = pareto_front(ys, xs)
        fx, fy = np.array(xs)[front], np.array(ys)[front]
        order = np.argsort(fx)
        ax.step(fx[order], fy[order], where="post", color="black", lw=1.2, ls="--",
                label="Pareto front")
    for name, (x, y) in parents.items():
        ax.scatter([x], [y], s=140, marker="*" if name == "thinking" else "s", zorder=5,
                   edgecolor="black", label=name)
    ax.set_xlabel("mean generated tokens")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_plots(curves: Sequence[Curve], summaries: dict[int, list[dict]], out_dir: Path) -> dict:
    """Draw every plot; `summaries` maps id(curve) to its summarize_curve rows (JSON form).
    Returns {'pair / benchmark': [file names]}."""
    groups: dict[tuple[str, str], list[Curve]] = defaultdict(list)
    for c in curves:
        groups[(c.pair, c.benchmark)].append(c)
    from tqdm import tqdm

    written = {}
    for (pair, bench), cs in tqdm(groups.items(), desc="plots", unit="pair/benchmark", disable=None):
        tag = plot_tag(pair, bench)
        files = [f"acc_vs_lam__{tag}.png"]
        _vs_lam(cs, summaries, "accuracy", "accuracy_ci", 100.0, "accuracy (%)",
                f"{pair} / {bench}: accuracy vs lam", out_dir / files[0])
        with_tokens = [c for c in cs if any(r["mean_tokens"] is not None for r in summaries[id(c)])]
        if with_tokens:
            files.append(f"tokens_vs_lam__{tag}.png")
            _vs_lam(with_tokens, summaries, "mean_tokens", "mean_tokens_ci", 1.0,
                    "mean generated tokens", f"{pair} / {bench}: tokens vs lam", out_dir / files[-1])
            files.append(f"pareto__{tag}.png")
            _pareto(with_tokens, summaries, f"{pair} / {bench}: accuracy vs tokens",
                    out_dir / files[-1])
        title = f"{pair} / {bench}"
        written[title if title not in written else f"{title} ({tag[-8:]})"] = files
    return written
