"""Numbers as a person reads them in a verdict sentence: points, tokens, CIs, lams."""
from __future__ import annotations

import math


def pct(x: float | None) -> str:
    """An accuracy fraction as a percentage: 0.712 -> '71.2%'."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def pts(x: float | None) -> str:
    """A signed accuracy difference in percentage points: 0.012 -> '+1.2 pts'."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.1f} pts"


def pts_ci(c: tuple[float, float] | None) -> str:
    if c is None or any(math.isnan(v) for v in c):
        return "[CI n/a]"
    return f"[{100 * c[0]:+.1f}, {100 * c[1]:+.1f}]"


def toks(x: float | None, signed: bool = True) -> str:
    if x is None or math.isnan(x):
        return "n/a tokens"
    return f"{x:+,.0f} tokens" if signed else f"{x:,.0f} tokens"


def toks_ci(c: tuple[float, float] | None) -> str:
    if c is None or any(math.isnan(v) for v in c):
        return "[CI n/a]"
    return f"[{c[0]:+,.0f}, {c[1]:+,.0f}]"


def num_ci(c: tuple[float, float] | None, fmt: str = ".2f") -> str:
    if c is None or any(math.isnan(v) for v in c):
        return "[CI n/a]"
    return f"[{c[0]:{fmt}}, {c[1]:{fmt}}]"


def lam(x: float) -> str:
    return f"lam={x:g}"


def step(a: float, b: float) -> str:
    return f"lam {a:g}->{b:g}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pts_abs(x: float | None) -> str:
    """An unsigned accuracy distance in points: 0.018 -> '1.8 pts'."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f} pts"


def lams(xs) -> str:
    return ", ".join(f"{x:g}" for x in xs)
