"""Read the chosen letter of a multiple-choice answer the way a careful person reads it.

Reasoning models discuss every option before they commit ("Option (C) ... is off by 0.4",
"maybe B? no"), then end with a final statement or a box. The reader therefore looks only
for FINAL evidence and takes the last one in the text:

- boxes (`\\boxed{...}`, `\\fbox{...}`): the letter alone or with the option text
  (`\\boxed{\\text{(D) c}}`, `\\boxed{B) 10^{-11} eV}`, `\\boxed{\\textbf{B}}`, `\\boxed{B.}`),
  or only the option's value (`\\boxed{44\\%}`), mapped to the option whose normalised
  text (or number) matches; a box matching no option gives no letter;
- statements: "the correct choice is (A) 44%", "Answer choice: (A) 17", "Final answer: B",
  "The answer is (B)", "Answer: C", "I choose D", "Option B is correct", "(B) is correct";
- a final line holding only a letter (optionally with its option text), `"answer": "C"`.

Markdown emphasis, `$...$` and `\\text{}`-style wrappers are removed first, so every form
reads the same bold, italic or in math mode. A sentence that names a letter without
committing to it (a rejection, a comparison, a question) is never evidence. A statement
followed on the same line by further labelled options is a list of the options, not an
answer (the next letter's label follows). `answer_like` tells a wrong-format answer (something answer-like, no letter) from
a malformed output (nothing answer-like at all).
"""
from __future__ import annotations

import re
from typing import Sequence

LETTERS = "ABCDEFGHIJ"

_WRAPPERS = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mathsf|emph|bf|operatorname)\s*\{([^{}]*)\}")
_EMPHASIS = re.compile(r"\*+|(?<![A-Za-z0-9\\])_{1,2}(?=\S)|(?<=\S)_{1,2}(?![A-Za-z0-9{])")


def normalise(text: str) -> str:
    """Text with markdown emphasis, `$` and `\\text{...}`-style wrappers removed."""
    prev = None
    while prev != text:  # nested wrappers: \text{\textbf{B}}
        prev, text = text, _WRAPPERS.sub(r"\1", text)
    text = text.replace("$", "").replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "")
    return _EMPHASIS.sub("", text)


def boxes(text: str) -> list[tuple[int, str]]:
    """(position, content) of every closed `\\boxed{...}` / `\\fbox{...}`, braces balanced."""
    found = []
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, m.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    found.append((m.start(), text[start:i]))
                    break
    return found


def _value_key(text: str) -> str:
    t = normalise(text).replace("\\%", "%").replace("\\,", "").replace("\\!", "").replace("\\ ", "")
    t = re.sub(r"\\left|\\right|\\displaystyle|[{}\s]", "", t).rstrip(".").lower()
    return t.replace("\\times", "x").replace("\\cdot", "x")


def _number(key: str) -> float | None:
    t = key.replace(",", "").rstrip("%")
    try:
        return float(t)
    except ValueError:
        return None


def match_option(value: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose normalised text (or number) equals `value`."""
    key = _value_key(value)
    if not key:
        return None
    hits = [i for i, o in enumerate(options) if _value_key(str(o)) == key]
    if not hits and _number(key) is not None:
        hits = [i for i, o in enumerate(options) if _number(_value_key(str(o))) == _number(key)]
    return LETTERS[hits[0]] if len(hits) == 1 else None


def _letter_at_start(content: str, valid: str) -> str | None:
    """`(D) c`, `B) 10^{-11}`, `B.`, `B`, `Option B`: the leading letter label, else None."""
    c = re.sub(r"^(?:option|choice|answer)\s*:?\s*", "", content.strip(), flags=re.IGNORECASE)
    m = re.match(r"^\(\s*([A-J])\s*\)|^([A-J])(?:\s*[).:]|\s*$|\s+(?=[^=<>]))", c)
    if not m:
        return None
    letter = m.group(1) or m.group(2)
    return letter if letter in valid else None


def read_box(content: str, valid: str, options: Sequence[str] | None) -> str | None:
    c = normalise(content).strip().strip(".").strip()
    letter = _letter_at_start(c, valid)
    if letter is None and options:
        letter = match_option(content, options)
    return letter


_L = r"\(?\s*((?-i:[A-J]))\s*\)?(?![A-Za-z0-9'])"
_OPT = r"(?:(?:option|choice|answer|letter)\s*)?"
_ADV = r"(?:(?:clearly|likely|probably|definitely|therefore|thus|indeed)\s+)?"
_STATEMENTS = [re.compile(p, re.IGNORECASE) for p in (
    r"\banswer(?:\s+choice)?\s*(?:is\s*:?|:|=|-|\u2014|\u2013)\s*" + _ADV + _OPT + _L,
    r"\b(?:correct|right|best|final)\s+(?:answer|choice|option)(?:\s+choice)?\s*(?:is|:|would\s+be|must\s+be|should\s+be)?\s*:?\s*" + _ADV + _OPT + _L,
    r"\bI(?:\s+will|'ll|\s+would)?\s+(?:choose|pick|select|go\s+with)\s*:?\s*" + _OPT + _L,
    r"\b(?:option|choice)\s*" + _L + r"\s*(?:is|must\s+be)\s+(?:the\s+)?(?:correct|right|best|answer)\b",
    r"(?:^|[\s:])\(\s*((?-i:[A-J]))\s*\)[^.\n]{0,60}?\s(?:is|must\s+be)\s+(?:the\s+)?(?:correct|right)(?:\s+answer)?\b",
    r"\"answer\"\s*:\s*\"\(?((?-i:[A-J]))\)?\"",
)]


def _statements(text: str, valid: str) -> list[tuple[int, str]]:
    found = []
    for pat in _STATEMENTS:
        for m in pat.finditer(text):
            letter = m.group(1)
            line_end = text.find("\n", m.end())
            rest = text[m.end(): line_end if line_end >= 0 else len(text)]
            nxt = chr(ord(letter) + 1)
            listed = re.search(rf"\(\s*{nxt}\s*\)|(?:^|\s){nxt}\)", rest)
            if letter not in valid or listed:  # "Answer Choices: (A) .. (B) .." restates the options
                continue
            found.append((m.start(), letter))
    return found


def _last_line(text: str, valid: str) -> str | None:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    last = re.sub(r"^[#>\-\s]+|[\s.!]+$", "", lines[-1])
    if re.fullmatch(r"\(?\s*[A-J]\s*\)?", last) or re.fullmatch(r"\(\s*[A-J]\s*\)\s+\S.{0,80}", last):
        return _letter_at_start(last, valid)
    return None


def read_choice(text: str, n_options: int = 4, options: Sequence[str] | None = None) -> str | None:
    """The chosen letter among the first `n_options` (options' texts help read a value box).
    The last piece of final evidence decides; a last box that names no option gives None."""
    valid = LETTERS[:n_options]
    norm = normalise(text)
    found: list[tuple[int, str | None]] = [(pos, read_box(content, valid, options)) for pos, content in boxes(norm)]
    found += _statements(norm, valid)
    if found:
        return max(found, key=lambda f: f[0])[1]
    return _last_line(norm, valid)


def answer_like(text: str) -> bool:
    """Whether the text holds anything a reader would take for an attempt at an answer."""
    return bool(re.search(r"\\boxed|\\fbox|\banswer\b|\b(?:option|choice)\b|\(\s*[A-J]\s*\)|\b[A-J]\)", text, re.IGNORECASE))
