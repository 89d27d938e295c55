"""Write a claim-verification report: reports/<run-id>/{claims.md,claims.json,claims.html,*.png}.

The report is built in a temporary folder beside its destination and renamed into place,
so a reader never sees half a report; a rerun with the same run id replaces the old one.
`reports/latest` then points at it: a relative symlink swapped in atomically, or, where
symlinks are not allowed, a copy. Temporary folders carry the writer's pid
(`.<run-id>.tmp-<pid>.*`); a report killed mid-write leaves one, and the next report
written under the same root removes those whose process is gone.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Mapping, Sequence

from tqdm import tqdm

from evals.claims.catalog import Thresholds, Verdict, count_verdicts, multiplicity_note
from evals.analysis.points import Curve
from evals.analysis.summary import summarize_curve
from evals.claims.verdicts import jsonable, smoke_run_line
from evals.report.html_page import render_html
from evals.report.markdown import render_markdown
from evals.report.plots import write_plots

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def default_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def curve_summary(curve: Curve, thresholds: Thresholds, *, n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """A curve's per-point rows for the report (summarize_curve, JSON-safe)."""
    return jsonable(summarize_curve(curve, n_boot=n_boot, seed=seed, level=thresholds.level,
                                    min_problems=thresholds.min_problems))


def verdict_dict(v: Verdict) -> dict:
    """v.to_dict() without its deep copy: the numbers are the verdict's own JSON-safe values
    (Verdict makes them so), shared, not copied -- a report only reads them."""
    return {f.name: getattr(v, f.name) for f in fields(Verdict)}


def build_report_data(curves: Sequence[Curve], verdicts: Sequence[Verdict], run_id: str,
                      meta: Mapping | None = None, thresholds: Thresholds | None = None, *,
                      n_boot: int = 1000, seed: int = 0,
                      known: Mapping[tuple, str] | None = None,
                      summaries: Mapping[int, list[dict]] | None = None) -> tuple[dict, dict[int, list[dict]]]:
    """The JSON document of a report, plus per-curve summary rows keyed by id(curve).
    `known`: known findings {(claim, pair, method, benchmark): reason}; the verdicts they
    name are marked in the report. `summaries`: curve_summary rows already made (judging
    makes them while each group's bootstrap draws are cached), keyed by id(curve)."""
    th = thresholds or Thresholds()
    summaries = dict(summaries or {})
    todo = [c for c in curves if id(c) not in summaries]
    for c in tqdm(todo, desc="curve tables", unit="curve", disable=None if len(todo) > 1 else True):
        summaries[id(c)] = curve_summary(c, th, n_boot=n_boot, seed=seed)
    data = {
        "run_id": run_id,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "meta": jsonable(dict(meta or {})),
        "thresholds": th.to_dict(),
        "bootstrap": {"n_boot": n_boot, "seed": seed, "level": th.level},
        "counts": count_verdicts(verdicts),
        "note": multiplicity_note(verdicts, th.level),
        "smoke_run": smoke_run_line(curves, th),
        "verdicts": [verdict_dict(v) for v in verdicts],
        "curves": [{"pair": c.pair, "method": c.method, "benchmark": c.benchmark,
                    "family": c.family, "parents_inferred": c.parents_inferred,
                    "points": summaries[id(c)]} for c in curves],
        "plots": {},
        "known": [{"claim": v.claim, "pair": v.pair, "method": v.method, "benchmark": v.benchmark,
                   "reason": (known or {})[(v.claim, v.pair, v.method, v.benchmark)]}
                  for v in verdicts if (v.claim, v.pair, v.method, v.benchmark) in (known or {})],
    }
    return data, summaries


_TEMP = re.compile(r"^\.(?:.+\.(?:tmp|old)|latest)[-.](\d+)\.")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def clean_stale_temps(root: Path) -> list[str]:
    """Remove temp folders (and temp `latest` links) of report writers that died; returns their names."""
    removed = []
    for p in root.iterdir() if root.is_dir() else ():
        m = _TEMP.match(p.name)
        if not m or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        if p.is_symlink() or p.is_file():
            p.unlink(missing_ok=True)
        else:
            shutil.rmtree(p, ignore_errors=True)
        removed.append(p.name)
    return removed


def _update_latest(root: Path, run_id: str) -> None:
    latest = root / "latest"
    tmp = root / f".latest.{os.getpid()}.{secrets.token_hex(3)}"
    try:
        os.symlink(run_id, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):
        shutil.copytree(root / run_id, tmp)
    if latest.is_dir() and not latest.is_symlink():
        shutil.rmtree(latest)  # an earlier copy: a directory can't be replaced in one step
    try:
        os.replace(tmp, latest)
    except OSError:
        if tmp.is_symlink() or tmp.is_file():
            tmp.unlink()
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_report(curves: Sequence[Curve], verdicts: Sequence[Verdict], out_root: str | Path = "reports",
                 run_id: str | None = None, meta: Mapping | None = None, *,
                 thresholds: Thresholds | None = None, n_boot: int = 1000, seed: int = 0,
                 plots: bool = True, known: Mapping[tuple, str] | None = None,
                 summaries: Mapping[int, list[dict]] | None = None) -> Path:
    """Write the report and point `<out_root>/latest` at it; returns the report folder.
    `summaries`: per-curve rows already made (see build_report_data)."""
    run_id = run_id or default_run_id()
    if not _RUN_ID.match(run_id) or run_id == "latest":
        raise ValueError(f"run id {run_id!r}: use letters, digits, '.', '_' or '-' (and not "
                         "'latest'), e.g. 20250101-120000")
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    curves, verdicts = list(curves), list(verdicts)
    data, summaries = build_report_data(curves, verdicts, run_id, meta, thresholds,
                                        n_boot=n_boot, seed=seed, known=known, summaries=summaries)
    clean_stale_temps(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.tmp-{os.getpid()}.", dir=root))
    try:
        if plots and curves:
            data["plots"] = write_plots(curves, summaries, tmp)
        files = {"claims.json": lambda: json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                 "claims.md": lambda: render_markdown(data), "claims.html": lambda: render_html(data)}
        # a bar on a terminal, for big reports only (each file takes seconds at 50,000 rows)
        bar = tqdm(files.items(), desc="writing report", unit="file", leave=False,
                   disable=None if len(verdicts) >= 2000 else True)
        for name, text in bar:
            bar.set_postfix_str(name)
            (tmp / name).write_text(text(), encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        final = root / run_id
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{run_id}.old-{os.getpid()}.", dir=root))
            os.replace(final, old / "report")
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _update_latest(root, run_id)
    return final
