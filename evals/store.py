"""The results store: one append-only JSONL file, one SampleRecord per line.

    store = ResultsStore("results/aime25.jsonl")
    if rec.key() not in store.keys(): store.append(rec)   # flushed and fsync'd per record
    print(store.summary())

Crash safety: each record is written as one line, flushed and fsync'd before `append`
returns, so a killed run loses at most the samples in flight. A process killed mid-write
leaves a torn last line (no trailing newline, or invalid JSON): it is ignored on read and
cut off before the next append, so later lines stay valid. A bad line anywhere else is
real corruption and raises a ValueError naming the file and line. Appending a key that is
already stored raises: a rerun skips stored keys instead (the runner does).
One writer per file at a time.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from evals.records import SampleRecord


class ResultsStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._by_key: dict[tuple, SampleRecord] = {}  # insertion-ordered: file order
        self._valid_bytes = 0  # length of the file up to the end of its last complete line
        self.torn_tail = False  # a torn last line was found (and will be cut on append)
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]  # tail: bytes after the last newline
        offset = 0
        for n, raw in enumerate(complete, 1):
            offset += len(raw) + 1
            if not raw.strip():
                self._valid_bytes = offset
                continue
            try:
                rec = SampleRecord.from_json(raw.decode("utf-8"))
            except (ValueError, TypeError) as exc:
                if n == len(complete) and not tail:
                    # a torn final line that happened to end in a newline byte: treat as torn
                    self.torn_tail = True
                    return
                raise ValueError(
                    f"{self.path}:{n}: corrupt record ({exc}); only the last line may be torn. "
                    "Remove or fix the line, or start a new results file"
                ) from None
            self._add(rec)
            self._valid_bytes = offset
        if tail.strip():
            self.torn_tail = True  # killed mid-write: ignore, cut on next append

    def _add(self, rec: SampleRecord, key: tuple | None = None) -> None:
        key = rec.key() if key is None else key
        if key in self._by_key:
            raise ValueError(f"{self.path}: duplicate record for {key}; the store must hold each sample once")
        self._by_key[key] = rec

    def _repair(self) -> None:
        if self.path.exists() and self.path.stat().st_size != self._valid_bytes:
            with self.path.open("r+b") as f:
                f.truncate(self._valid_bytes)
                f.flush()
                os.fsync(f.fileno())
        self.torn_tail = False

    def append(self, record: SampleRecord) -> None:
        self.extend([record])

    def extend(self, records: Iterable[SampleRecord]) -> None:
        """Append records, each flushed and fsync'd before the next is written."""
        records = list(records)
        keys = [rec.key() for rec in records]
        for rec, key in zip(records, keys):
            if key in self._by_key:
                raise ValueError(f"{self.path}: sample {rec.problem_id}#{rec.sample_index} is already stored")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()
        with self.path.open("ab") as f:
            for rec, key in zip(records, keys):
                line = (rec.to_json() + "\n").encode("utf-8")
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
                self._valid_bytes += len(line)
                self._add(rec, key)

    def __contains__(self, record_or_key) -> bool:
        key = record_or_key.key() if isinstance(record_or_key, SampleRecord) else record_or_key
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def keys(self) -> set[tuple]:
        return set(self._by_key)

    def get(self, key: tuple) -> SampleRecord | None:
        """The stored record of one sample key, or None."""
        return self._by_key.get(key)

    def records(self, **where) -> list[SampleRecord]:
        """All records, optionally filtered by field equality, e.g. records(benchmark="aime25")."""
        return [r for r in self._by_key.values() if all(getattr(r, k) == v for k, v in where.items())]

    def summary(self, records: list[SampleRecord] | None = None, **kwargs) -> str:
        """A table per (model, method, lam, benchmark): see `evals.metrics.summary_table`."""
        from evals.metrics import summary_table

        return summary_table(list(self._by_key.values()) if records is None else records, **kwargs)


def read_records(path: str | Path) -> list[SampleRecord]:
    """All valid records of a results file (a torn last line ignored)."""
    return ResultsStore(path).records()

