"""Adaptive strengths against a fixed grid: generated tokens, points and every claim verdict,
on a tiny pair's sweep; and on synthetic curves of the paper's shape, how many points the
search needs to put the transition centre within 0.05 of a dense grid's estimate.

    python perf/adaptive_compare.py configs/tiny.yaml --results results/tiny.jsonl [--max-share 0.4]
    python perf/adaptive_compare.py configs/overthink.yaml --fixed-lams 0,0.1,...,1   # or the config's grid
    python perf/adaptive_compare.py --synthetic-only
    python perf/adaptive_compare.py configs/tiny.yaml --start 0.25 --centre 0.502 --max-share 0.4  # from the probe

Both runs read and fill the same results store (the adaptive run reuses the fixed grid's
records where their lams coincide, and generates the rest); the tokens of a run are the
generated tokens of every record it rests on, parents included, whoever generated them.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import replace

from evals.analysis.synthetic import synthetic_point
from evals.analysis.transition import fit_logistic
from evals.claims.catalog import judge_all
from evals.claims.verdicts import Thresholds
from evals.claims.verify import judged_curves
from evals.sweep.adaptive import format_rounds, generated_tokens, run_adaptive, search_curve
from evals.sweep.adaptive_settings import DEFAULT_START, AdaptiveSettings
from evals.sweep.config import SweepConfig
from evals.sweep.local import run_sweep
from evals.sweep.weights import pair_movement


def verdicts_of(cfg, records, n_boot: int):
    movement = {p.name: pair_movement(p) for p in cfg.pairs if p.base is not None}
    return {(v.claim, v.method, v.benchmark): v for v in
            judge_all(judged_curves(records), Thresholds(), movement=movement, n_boot=n_boot, seed=0)}


def merge_points(records) -> int:
    return len({(r.pair, r.method, r.lam) for r in records if r.method is not None})


def compare(cfg: SweepConfig, settings: AdaptiveSettings, n_boot: int, max_share: float | None = None) -> None:
    fixed = run_sweep(cfg, progress=False)
    if max_share is not None:  # the token budget as a share of the fixed grid's tokens
        settings = replace(settings, max_tokens=max_share * generated_tokens(fixed))
    adaptive, rounds = run_adaptive(replace(cfg, adaptive=settings, lams=settings.grid()), progress=False)
    print(format_rounds(rounds))
    t_fixed, t_adapt = generated_tokens(fixed), generated_tokens(adaptive)
    print("\n| run | merge points | generated tokens | share |\n|---|---|---|---|")
    print(f"| fixed grid ({len(cfg.lams)} lams) | {merge_points(fixed)} | {t_fixed:,} | 100% |")
    print(f"| adaptive ({', '.join(f'{m}: {len(v)}' for m, v in rounds[-1].lams.items())}) | "
          f"{merge_points(adaptive)} | {t_adapt:,} | {t_adapt / t_fixed:.0%} |")
    print("\n| method | fixed tokens | adaptive tokens | adaptive points (why) |\n|---|---|---|---|")
    whys = {m: [p.why for r in rounds for p in r.added.get(m, ())] for m in cfg.methods}
    for m in cfg.methods:
        tf = generated_tokens([r for r in fixed if r.method == m])
        ta = generated_tokens([r for r in adaptive if r.method == m])
        n = {w: whys[m].count(w) for w in dict.fromkeys(whys[m])}
        print(f"| {m} | {tf:,} | {ta:,} ({ta / tf:.0%}) | {len(rounds[-1].lams[m])} "
              f"({len(settings.grid())} start{''.join(f', {k} {w}' for w, k in n.items())}) |")
    vf, va = verdicts_of(cfg, fixed, n_boot), verdicts_of(cfg, adaptive, n_boot)
    flips = same = 0
    print("\n| claim | method | fixed | adaptive | adaptive lams |\n|---|---|---|---|---|")
    for key in sorted(set(vf) | set(va)):
        a, b = vf.get(key), va.get(key)
        sa, sb = a.status if a else "-", b.status if b else "-"
        flips += {sa, sb} == {"holds", "fails"}
        same += sa == sb
        lams = rounds[-1].lams.get(key[1], ())
        print(f"| {key[0]} | {key[1]} | {sa} | {sb}{' (FLIP)' if {sa, sb} == {'holds', 'fails'} else ''} | "
              f"{', '.join(f'{x:g}' for x in lams)} |")
    print(f"\n{same} of {len(set(vf) | set(va))} verdicts equal; {flips} flip between holds and fails")


def logistic(lam: float, c: float, width: float, lo: float = 0.2, hi: float = 0.75) -> float:
    return lo + (hi - lo) / (1.0 + math.exp(-(lam - c) * 2.0 * math.log(9.0) / width))


def synthetic(settings: AdaptiveSettings, seeds: int = 5) -> None:
    """30 problems x 10 samples, accuracy 0.2 -> 0.75 (AIME-like), tokens rising with it."""
    print("\n| centre | 10-90% width | seed | points (start + added) | adaptive centre | dense centre (101 lams) "
          "| within 0.05 |\n|---|---|---|---|---|---|---|")
    hits = n = 0
    for c in (0.6, 0.65, 0.7):
        for width in (0.02, 0.05, 0.1):
            for seed in range(seeds):
                def point_at(lam, method="linear"):
                    a = logistic(lam, c, width)
                    return synthetic_point("syn", method, lam, "b", accuracy=a, tokens=1000 + 5000 * (a - 0.2),
                                           n_problems=30, k=10, seed=seed)
                curve, _ = search_curve(point_at, settings, direct=point_at(0.0, None), think=point_at(1.0, None))
                dense = [i / 100 for i in range(101)]
                cd = fit_logistic(dense, [point_at(x).accuracy for x in dense]).c
                s = curve.series()
                ca = fit_logistic([p.lam for p in s], [p.accuracy for p in s]).c
                ok = abs(ca - cd) <= 0.05
                hits, n = hits + ok, n + 1
                print(f"| {c} | {width} | {seed} | {len(curve.points)} ({len(settings.grid())} + "
                      f"{len(curve.points) - len(settings.grid())}) | {ca:.3f} | {cd:.3f} | {'yes' if ok else 'no'} |")
    print(f"\n{hits} of {n} synthetic curves: centre within 0.05 of the dense grid's")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="configs/tiny.yaml")
    ap.add_argument("--results", help="results store (default: the config's)")
    ap.add_argument("--fixed-lams", help="comma-separated fixed grid (default: the config's lams)")
    ap.add_argument("--methods", help="comma-separated methods (default: the config's)")
    ap.add_argument("--start", default=",".join(f"{x:g}" for x in DEFAULT_START),
                    help="adaptive start grid (comma-separated; default: the settings' default)")
    ap.add_argument("--target", type=float, default=0.05)
    ap.add_argument("--centre", type=float, help="a predicted transition centre (`spectrum probe CONFIG` prints it)")
    ap.add_argument("--max-points", type=int, default=12)
    ap.add_argument("--min-step", type=float, default=0.01)
    ap.add_argument("--max-share", type=float, help="token budget: this share of the fixed grid's tokens")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--synthetic-only", action="store_true")
    ap.add_argument("--no-synthetic", action="store_true")
    a = ap.parse_args(argv)
    settings = AdaptiveSettings(start=tuple(float(x) for x in a.start.split(",")), target=a.target,
                                min_step=a.min_step, max_points=a.max_points, centre=a.centre)
    if not a.synthetic_only:
        cfg = SweepConfig.from_yaml(a.config)
        cfg = replace(cfg, threads=1, **({"results": a.results} if a.results else {}),
                      **({"lams": tuple(float(x) for x in a.fixed_lams.split(","))} if a.fixed_lams else {}),
                      **({"methods": tuple(a.methods.split(","))} if a.methods else {}))
        compare(cfg, settings, a.n_boot, a.max_share)
    if not a.no_synthetic:
        synthetic(settings)


if __name__ == "__main__":
    main()
