"""Read benchmark rows from a local file or folder (JSONL, JSON, parquet) or the HF hub.

`load_rows(path, hub_id=..., config=..., split=..., name=...)`: with a path, read it
(a folder: every *.jsonl / *.json / *.parquet inside, sorted by name); without one, ask
`datasets.load_dataset(hub_id, config, split=split)`. When the hub cannot be reached
(offline machines, gated sets) the error says which file to provide instead.

A folder may hold the same problems twice (a JSONL converted from the parquet beside it):
rows of a later file whose identity (the first of `id_keys` present) was already read
are dropped when identical (values compared as text) with a one-line note, and refused
with an error naming both files and the id when they differ.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

_SUFFIXES = (".jsonl", ".json", ".parquet")


def _read_file(path: Path) -> list[dict]:
    """The rows of one data file, each a JSON object (a mapping of field names to values)."""
    rows = _read_rows(path)
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise ValueError(f"{path}: row {n} is a {type(row).__name__}, not an object of fields "
                             "(e.g. {\"problem\": ..., \"answer\": ...}); fix the file")
    return rows


def read_jsonl(path: Path) -> list:
    """The JSON values of a JSONL file's non-blank lines; a bad line is one error naming it."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg}); fix or remove the line") from None
    return rows


def _read_rows(path: Path) -> list:
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); fix the file") from None
        if isinstance(data, dict):  # {id: row} as in creative-writing-bench
            return [{"id": k, **v} if isinstance(v, dict) else {"id": k, "value": v} for k, v in data.items()]
        return list(data) if isinstance(data, list) else [data]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq
        from datasets import Dataset

        try:  # pyarrow first: a bad file is one error here, not a logged one from datasets too
            pq.read_metadata(str(path))
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise ValueError(f"{path}: not a readable parquet file ({exc}); give the benchmark's parquet "
                             "or JSONL file") from None
        return list(Dataset.from_parquet(str(path)))
    raise ValueError(f"{path}: unsupported data file; give a .jsonl, .json or .parquet file or a folder of them")


def _same(a: dict, b: dict) -> bool:
    """Rows equal as text over the fields both have (parquet ints vs JSON strings, None vs missing)."""
    shared = [k for k in a if k in b and a[k] is not None and b[k] is not None]
    return all(str(a[k]).strip() == str(b[k]).strip() for k in shared)


def merge_files(files: Sequence[Path], *, name: str, id_keys: Sequence[str]) -> list[dict]:
    """Rows of every file in order; duplicates across files collapsed or refused (see above)."""
    rows: list[dict] = []
    seen: dict[str, tuple[Path, dict]] = {}
    for f in files:
        dropped = 0
        for row in _read_file(f):
            rid = next((str(row[k]).strip() for k in id_keys if row.get(k) is not None), None)
            if rid is not None and rid in seen and seen[rid][0] != f:
                first, other = seen[rid]
                if not _same(other, row):
                    raise ValueError(f"benchmark {name!r}: {first.name} and {f.name} in {f.parent} both hold id "
                                     f"{rid[:80]!r} with different content; remove one of the two files")
                dropped += 1
                continue
            if rid is not None:
                seen.setdefault(rid, (f, row))
            rows.append(row)
        if dropped:
            print(f"{name}: {f.name} repeats {dropped} problems already read from another file in {f.parent}; "
                  "identical duplicates dropped", file=sys.stderr)
    return rows


def load_rows(path: str | Path | None, *, hub_id: str | None, config: str | None = None,
              split: str = "test", name: str, fields_hint: str = "", id_keys: Sequence[str] = ()) -> list[dict]:
    """Rows of the benchmark `name` from `path` (file/folder) or, if None, from the hub."""
    hint = f" with fields {fields_hint}" if fields_hint else ""
    if path is not None:
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix in _SUFFIXES)
            if not files:
                raise FileNotFoundError(f"{p}: no .jsonl/.json/.parquet file for benchmark {name!r}")
            return merge_files(files, name=name, id_keys=id_keys)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such data file for benchmark {name!r}; give a JSONL/parquet file{hint}")
        return _read_file(p)
    if hub_id is None:
        raise ValueError(f"benchmark {name!r} has no hub dataset; pass --data PATH (JSONL/parquet{hint})")
    try:
        from datasets import load_dataset

        ds = load_dataset(hub_id, config, split=split) if config else load_dataset(hub_id, split=split)
    except Exception as exc:  # network, gating, missing cache: all end the same way for the user
        where = f"{hub_id}" + (f" (config {config})" if config else "") + f", split {split}"
        raise ValueError(
            f"benchmark {name!r}: could not load {where} from the Hugging Face hub "
            f"({type(exc).__name__}: {str(exc)[:200]}); download it elsewhere and pass "
            f"--data PATH to a JSONL or parquet file{hint}"
        ) from None
    return list(ds)


def pick(row: dict, keys: Sequence[str], *, name: str, what: str, index: int):
    """First present key of `row` among `keys`; a ValueError naming the fix otherwise."""
    for k in keys:
        if k in row and row[k] is not None:
            return row[k]
    raise ValueError(
        f"benchmark {name!r}, row {index}: no {what} field (looked for {', '.join(keys)}); "
        f"present: {', '.join(sorted(row)) or 'none'}"
    )
