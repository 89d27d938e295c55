"""GitHub-Markdown tables, character for character as `tabulate(rows, headers, "github")`
writes them, at a fraction of its cost for the cells a report holds.

tabulate deduces every cell's type through several regexes and conversions; a report of
50,000 rows has about a million cells, and tabulate took longer than judging them. Here a
table whose cells and headers are all printable ASCII strings (so no ANSI codes, wide
characters or line breaks, where tabulate measures widths differently) and whose every
column is either plain text or plain numbers is laid out directly, with tabulate's rules:
  * a column is numeric when all its cells are numbers: digits ("82"), thousands-separated
    integers ("1,119") or decimals in the `g` form tabulate would print them in ("0.1",
    "1e-05"); numbers align on their decimal point and the column sits flush right,
    header included;
  * any other column is text: cells stripped and flush left;
  * a column is at least its header's width plus 2.
Anything else (an empty cell, "True", "nan", "1_000", a non-ASCII name, a number tabulate
would reprint, no rows) goes to tabulate itself, so the output never differs.
"""
from __future__ import annotations

import re
from typing import Sequence

from tabulate import tabulate

# Characters a string tabulate might read as a number can hold (float() syntax and
# thousands separators); a cell with any other character (and not inf/nan/True/False) is text.
_NOT_NUMERIC = re.compile(r"[^0-9+\-._eE,\s]")
_INT = re.compile(r"[0-9]+")
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_THOUSANDS_ANY = re.compile(r"^(([+-]?[0-9]{1,3})(?:,([0-9]{3}))*)?(?(1)\.[0-9]*|\.[0-9]+)?$")  # tabulate's
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:e[+-][0-9]+)?")
_SPECIAL = {"inf", "infinity", "nan", "true", "false"}


def _is_text(cell: str) -> bool:
    """True only where tabulate types the cell as a string (no float(), int(), thousands
    or bool reading of it exists)."""
    if _NOT_NUMERIC.search(cell):
        return cell.strip().lstrip("+-").lower() not in _SPECIAL
    if _THOUSANDS_ANY.match(cell):
        return False
    for conv in (float, int):
        try:
            conv(cell)
            return False
        except ValueError:
            pass
    return True


def _after_point(cell: str) -> int:
    """tabulate's digits after the decimal point (or after the 'e' of '1e-05'); -1 for an integer."""
    if _INT.fullmatch(cell) or _THOUSANDS.fullmatch(cell):
        return -1
    pos = cell.rfind(".")
    pos = cell.rfind("e") if pos < 0 else pos
    return len(cell) - pos - 1 if pos >= 0 else -1


def _numbers_as_printed(cells: list[str]) -> bool:
    """The cells are numbers tabulate prints unchanged: an integer column ("82", "1,119")
    is printed as given; a column with any decimal is reprinted as format(float, "g"),
    which must give back every cell."""
    if all(_INT.fullmatch(c) or _THOUSANDS.fullmatch(c) for c in cells):
        return True
    return all((_DECIMAL.fullmatch(c) or _INT.fullmatch(c)) and format(float(c), "g") == c for c in cells)


def _plain_column(header: str, cells: list[str]) -> list[str] | None:
    """The column padded to its width, header first; None when tabulate must decide."""
    if any(_is_text(c) for c in cells):  # one string makes the whole column text
        cells = [c.strip() for c in cells]
        width = max(len(header) + 2, max(map(len, cells)))
        return [header.ljust(width)] + [c.ljust(width) for c in cells]
    if not _numbers_as_printed(cells):
        return None
    points = [_after_point(c) for c in cells]
    most = max(points)
    cells = [c + " " * (most - p) for c, p in zip(cells, points)]
    width = max(len(header) + 2, max(map(len, cells)))
    return [header.rjust(width)] + [c.rjust(width) for c in cells]


def github_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """tabulate(rows, headers=headers, tablefmt="github"), exactly."""
    n = len(headers)
    plain = (rows and all(isinstance(h, str) and h.isascii() and h.isprintable() for h in headers)
             and all(len(r) == n and all(isinstance(c, str) and c and c.isascii() and c.isprintable()
                                         for c in r) for r in rows))
    cols = [_plain_column(h, [r[i] for r in rows]) for i, h in enumerate(headers)] if plain else None
    if cols is None or any(c is None for c in cols):
        return tabulate(rows, headers=list(headers), tablefmt="github")
    lines = ["| " + " | ".join(cells) + " |" for cells in zip(*cols)]
    lines.insert(1, "|" + "|".join("-" * (len(c[0]) + 2) for c in cols) + "|")
    return "\n".join(lines)
