"""Time and peak RSS of `spectrum analyze` on a generated outside table.

    PYTHONPATH=$PWD python perf/analyze_bench.py [ROWS] [--plots] [--baseline REV] [--workers N]

Writes a table of ROWS rows (default 50,000): pairs x benchmarks x 5 methods x 11 lams
plus the two parents, accuracies from a noisy logistic (some curves flat, some with a
step), mean tokens falling with lam, n = 30-200 problems. Prints rows, seconds, rows/s and
the peak RSS of the analysis process (it runs in a child so only the analysis counts);
CPU seconds too, since wall time on a shared machine mostly measures the others.
`--baseline REV` also runs git revision REV of the current directory's repository
(exported with `git archive` into a temporary folder) on the same table and prints the
ratios, so before and after come from one run. `--workers N` passes --judge-workers N to
this revision's run (default: every usable CPU). CPU seconds include the judging workers
(reaped children); peak RSS is the largest single process's (forked workers share pages).
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

METHODS = ("linear", "slerp", "ties(density=0.5)", "dare_linear(density=0.3)", "task_arithmetic")
LAMS = [round(0.1 * i, 1) for i in range(11)]


def write_table(path: Path, rows: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    per_group = len(METHODS) * len(LAMS) + 2
    groups = max(1, rows // per_group)
    n_pairs = max(1, int(np.sqrt(groups / 4)))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pair", "method", "lam", "benchmark", "accuracy", "mean_tokens", "n"])
        written = 0
        for g in range(groups):
            pair, bench = f"pair{g % n_pairs}", f"bench{g // n_pairs}"
            lo, hi, n = rng.uniform(0.1, 0.4), rng.uniform(0.4, 0.9), int(rng.integers(30, 200))
            w.writerow([pair, "direct", 0.0, bench, round(lo, 4), 300, n])
            w.writerow([pair, "think", 1.0, bench, round(hi, 4), 3000, n])
            written += 2
            for m in METHODS:
                c, width = rng.uniform(0.2, 0.8), rng.choice([0.02, 0.1, 1.0])
                for lam in LAMS:
                    acc = lo + (hi - lo) / (1 + np.exp(-(lam - c) / width)) + rng.normal(0, 0.02)
                    w.writerow([pair, m, lam, bench, round(float(np.clip(acc, 0, 1)), 4),
                                round(300 + 2700 * lam + rng.normal(0, 50)), n])
                    written += 1
    return written


def run_analyze(table: Path, code: Path, out: Path, plots: bool, extra: list[str] = ()) -> dict:
    """One `spectrum analyze` in a child importing `code`: wall s, CPU s, peak RSS MB."""
    cmd = [sys.executable, "-m", "evals.cli", "analyze", str(table), "--report-dir", str(out),
           "--run-id", "bench"] + ([] if plots else ["--no-plots"]) + list(extra)
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=code, env=env, stdout=subprocess.DEVNULL)
    _, status, use = os.wait4(child.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"analyze_bench: {' '.join(cmd)} failed under {code}")
    return {"wall": dt, "cpu": use.ru_utime + use.ru_stime, "rss": use.ru_maxrss / 1024}


def report(name: str, rows: int, r: dict) -> None:
    print(f"{name:>9}: rows {rows}  wall s {r['wall']:.1f}  cpu s {r['cpu']:.1f}  rows/s "
          f"{rows / r['wall']:.0f} (wall) {rows / r['cpu']:.0f} (cpu)  peak RSS {r['rss']:.0f} MB")


def main() -> None:
    args = sys.argv[1:]
    rows = int(args[0]) if args and args[0].isdigit() else 50_000
    base = args[args.index("--baseline") + 1] if "--baseline" in args else None
    workers = ["--judge-workers", args[args.index("--workers") + 1]] if "--workers" in args else []
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "big.csv"
        written = write_table(table, rows)
        runs = {}
        if base:
            old = Path(tmp) / "baseline"
            old.mkdir()
            tar = subprocess.run(["git", "archive", base], check=True, capture_output=True).stdout  # the cwd repo
            subprocess.run(["tar", "-x", "-C", str(old)], input=tar, check=True)
            runs["baseline"] = run_analyze(table, old, Path(tmp) / "out-base", "--plots" in args)
        runs["this"] = run_analyze(table, here, Path(tmp) / "out", "--plots" in args, workers)
    for name, r in runs.items():
        report(name, written, r)
    if base:
        b, t = runs["baseline"], runs["this"]
        print(f"  ratios (baseline {base} / this): wall {b['wall'] / t['wall']:.1f}x  cpu "
              f"{b['cpu'] / t['cpu']:.1f}x  RSS {b['rss'] / t['rss']:.2f}x")


if __name__ == "__main__":
    main()
