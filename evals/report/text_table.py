"""Text tables character for character as tabulate writes them -- GitHub Markdown
(`github_table`, claims.md) and the terminal's wrapped verdict table (`simple_table`) --
at a fraction of its cost for the cells a report holds.

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
  * a column is at least its header's width plus 2;
  * a wrapped column is cut as tabulate's wrapper cuts it (textwrap, with long words cut
    at the line's end), one table row taking as many lines as its tallest cell.
Anything else (an empty cell, "True", "nan", "1_000", a non-ASCII name, a number tabulate
would reprint, no rows) goes to tabulate itself, so the output never differs.
"""
from __future__ import annotations

import re
import textwrap
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


class _Wrap(textwrap.TextWrapper):
    """tabulate's wrapper on ASCII text: a word longer than the line is cut at the line's
    end (CPython's cuts it after a hyphen where it can)."""

    def _handle_long_word(self, reversed_chunks, cur_line, cur_len, width):
        space_left = 1 if width < 1 else width - cur_len
        if self.break_long_words and space_left > 0:
            chunk = reversed_chunks[-1]
            cur_line.append(chunk[:space_left])
            reversed_chunks[-1] = chunk[space_left:]
        elif not cur_line:
            cur_line.append(reversed_chunks.pop())


def _plain_column(header: str, cells: list[str], wrap: int | None = None):
    """(header, lines of each cell), padded to the column's width; None when tabulate must
    decide. `wrap`: wrap text at that many characters, as maxcolwidths does."""
    if any(_is_text(c) for c in cells):  # one string makes the whole column text
        if wrap is None:
            parts = [[c.strip()] for c in cells]
        elif all(_is_text(c) and c == c.strip() for c in cells):
            wrapper = _Wrap(width=wrap, break_long_words=True, break_on_hyphens=True)
            parts = [wrapper.wrap(c) for c in cells]
        else:
            return None
        width = max(len(header) + 2, max(len(line) for p in parts for line in p))
        return header.ljust(width), [[line.ljust(width) for line in p] for p in parts]
    if wrap is not None or not _numbers_as_printed(cells):
        return None
    points = [_after_point(c) for c in cells]
    most = max(points)
    cells = [c + " " * (most - p) for c, p in zip(cells, points)]
    width = max(len(header) + 2, max(map(len, cells)))
    return header.rjust(width), [[c.rjust(width)] for c in cells]


def _columns(headers, rows, wrap: dict[int, int]):
    n = len(headers)
    plain = (rows and all(isinstance(h, str) and h.isascii() and h.isprintable() for h in headers)
             and all(len(r) == n and all(isinstance(c, str) and c.strip() and c.isascii() and c.isprintable()
                                         for c in r) for r in rows))
    if not plain:
        return None
    cols = [_plain_column(h, [r[i] for r in rows], wrap.get(i)) for i, h in enumerate(headers)]
    return None if any(c is None for c in cols) else cols


def github_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """tabulate(rows, headers=headers, tablefmt="github"), exactly."""
    cols = _columns(headers, rows, {})
    if cols is None:
        return tabulate(rows, headers=list(headers), tablefmt="github")
    lines = ["| " + " | ".join(h for h, _ in cols) + " |",
             "|" + "|".join("-" * (len(h) + 2) for h, _ in cols) + "|"]
    lines += ["| " + " | ".join(cell[0] for cell in row) + " |" for row in zip(*(c for _, c in cols))]
    return "\n".join(lines)


def simple_table(headers: Sequence[str], rows: Sequence[Sequence[str]], wrap: dict[int, int]) -> str:
    """tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=...) with column i
    wrapped at wrap[i] characters, exactly (rows of several lines where a cell wraps)."""
    cols = _columns(headers, rows, wrap)
    if cols is None:
        widths = [wrap.get(i) for i in range(len(headers))]
        return tabulate(rows, headers=list(headers), tablefmt="simple", maxcolwidths=widths)
    lines = ["  ".join(h for h, _ in cols).rstrip(), "  ".join("-" * len(h) for h, _ in cols)]
    for row in zip(*(c for _, c in cols)):
        for k in range(max(map(len, row))):
            lines.append("  ".join(cell[k] if k < len(cell) else " " * len(h)
                                   for cell, (h, _) in zip(row, cols)).rstrip())
    return "\n".join(lines)
