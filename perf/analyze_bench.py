"""Time and peak RSS of `spectrum analyze` on a generated outside table.

    PYTHONPATH=$PWD python perf/analyze_bench.py [ROWS] [--plots]

Writes a table of ROWS rows (default 50,000): pairs x benchmarks x 5 methods x 11 lams
plus the two parents, accuracies from a noisy logistic (some curves flat, some with a
step), mean tokens falling with lam, n = 30-200 problems. Prints rows, seconds, rows/s and
the peak RSS of the analysis process (it runs in a child so only the analysis counts);
CPU seconds too, since wall time on a shared machine mostly measures the others.
"""
from __future__ import annotations

import csv
import resource
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


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "big.csv"
        written = write_table(table, rows)
        cmd = [sys.executable, "-m", "evals.cli", "analyze", str(table), "--report-dir", tmp, "--run-id", "bench"]
        if "--plots" not in sys.argv:
            cmd.append("--no-plots")
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = use.ru_utime + use.ru_stime
    print(f"rows {written}  wall s {dt:.1f}  cpu s {cpu:.1f}  rows/s {written / dt:.0f} (wall) "
          f"{written / cpu:.0f} (cpu)  peak RSS {use.ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
