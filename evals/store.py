"""The results store: one append-only JSONL file, one SampleRecord per line.

    store = ResultsStore("results/aime25.jsonl")
    if rec.key() not in store.keys(): store.append(rec)   # flushed and fsync'd per record
    print(store.summary())

Crash safety: each record is written as one line, flushed and fsync'd before `append`
returns, so a killed run loses at most the samples in flight. A process killed mid-write
leaves a torn last line (no trailing newline, or invalid JSON): it is ignored on read and
cut off before the next append, so later lines stay valid. A bad line anywhere else is
real corruption and raises a ValueError naming the file and line. Every record is checked
against the record schema (`evals.records.check_record`) on read and on write.

Many writers on one machine: `extend` holds an advisory lock (`fcntl.flock`) on the file
while it reads what other writers appended since this store last looked, repairs a torn
tail and appends; a second process waits (at most `lock_timeout_s`, then a TimeoutError
naming the file) and never interleaves. A torn tail is only cut under the lock, after
re-reading the file, so it is never another live writer's data. A sample another writer
stored first is kept and not written again; appending a key this store already held
raises: a rerun skips stored keys instead (the runner does). Ray's driver does all writing.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from evals.records import RecordError, SampleRecord
from evals.metrics import summary_table

LOCK_TIMEOUT_S = 120.0
MAX_SNAPSHOTS = 4  # results files whose last read this process keeps (most recent first out last)
CHECK_BYTES = 4096  # bytes before a snapshot's end compared to tell a grown file from a rewritten one


@dataclass(frozen=True)
class _Snapshot:
    """What one read of a results file found: its records up to `valid_bytes`, and the bytes
    at its start and just before that point, to tell the same file grown by appends from a
    rewritten one (a file edited in place between those windows, in the same process, would
    not be read again: the store is append-only)."""

    file: tuple[int, int]  # (st_dev, st_ino)
    valid_bytes: int
    lines: int
    by_key: dict
    head: bytes  # the file's first CHECK_BYTES
    tail: bytes  # the CHECK_BYTES before valid_bytes

    @classmethod
    def of(cls, f, st, store: "ResultsStore") -> "_Snapshot":
        n, start = store._valid_bytes, max(0, store._valid_bytes - CHECK_BYTES)
        return cls((st.st_dev, st.st_ino), n, store._lines, dict(store._by_key),
                   os.pread(f.fileno(), min(n, CHECK_BYTES), 0), os.pread(f.fileno(), n - start, start))

    def matches(self, f, st) -> bool:
        if (st.st_dev, st.st_ino) != self.file or st.st_size < self.valid_bytes:
            return False
        return (os.pread(f.fileno(), len(self.head), 0) == self.head
                and os.pread(f.fileno(), len(self.tail), self.valid_bytes - len(self.tail)) == self.tail)


_SNAPSHOTS: dict[str, _Snapshot] = {}  # resolved path -> its last read in this process


class ResultsStore:
    def __init__(self, path: str | Path, lock_timeout_s: float = LOCK_TIMEOUT_S):
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self._by_key: dict[tuple, SampleRecord] = {}  # insertion-ordered: file order
        self._valid_bytes = 0  # length of the file up to the end of its last complete line
        self._lines = 0  # complete lines read so far (for line numbers in messages)
        self.torn_tail = False  # a torn last line was found (and will be cut on append)
        self._foreign: set[tuple] = set()  # keys first seen in another writer's appends
        self.skipped_foreign = 0  # records not written because another writer stored them first
        if self.path.is_dir():
            raise ValueError(f"{self.path}: is a directory; give a results file such as {self.path}/results.jsonl")
        if self.path.exists():
            self._open()

    def _open(self) -> None:
        """Read the file; when this process read it before and it has only grown since (same
        file, same bytes before where that read stopped), start from that read and parse only
        what was appended: a sweep driver that reopens one store per point or per round
        (`lams: adaptive`, one call per method) parses each line once, not once per call."""
        key = str(self.path.resolve())
        with open(self.path, "rb") as f:
            st = os.fstat(f.fileno())
            snap = _SNAPSHOTS.get(key)
            if snap is not None and snap.matches(f, st):
                self._by_key, self._valid_bytes, self._lines = dict(snap.by_key), snap.valid_bytes, snap.lines
                f.seek(self._valid_bytes)
            self._scan(f.read())
            if self._valid_bytes:
                _SNAPSHOTS.pop(key, None)
                _SNAPSHOTS[key] = _Snapshot.of(f, st, self)
                while len(_SNAPSHOTS) > MAX_SNAPSHOTS:
                    _SNAPSHOTS.pop(next(iter(_SNAPSHOTS)))

    def _scan(self, data: bytes) -> set[tuple]:
        """Parse `data` (the file from byte `_valid_bytes` on); returns the keys it added."""
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]  # tail: bytes after the last newline
        self.torn_tail, added = False, set()
        for i, raw in enumerate(complete):
            n = self._lines + 1
            if raw.strip():
                try:
                    rec = SampleRecord.from_json(raw.decode("utf-8"))
                except (ValueError, TypeError) as exc:
                    if i == len(complete) - 1 and not tail and not isinstance(exc, RecordError):
                        self.torn_tail = True  # a torn final line that happened to end in a newline byte
                        return added
                    if isinstance(exc, RecordError):
                        raise ValueError(f"{self.path}:{n}: bad record ({exc}); fix or remove the line") from None
                    raise ValueError(
                        f"{self.path}:{n}: corrupt record ({exc}); only the last line may be torn. "
                        "Remove or fix the line, or start a new results file"
                    ) from None
                added.add(self._add(rec, line=n))
            self._lines = n
            self._valid_bytes += len(raw) + 1
        if tail.strip():
            self.torn_tail = True  # killed mid-write: ignore, cut on next append
        return added

    def _add(self, rec: SampleRecord, key: tuple | None = None, line: int | None = None) -> tuple:
        key = rec.key() if key is None else key
        if key in self._by_key:
            where = f"{self.path}:{line}" if line else str(self.path)
            raise ValueError(f"{where}: duplicate record for {key}; the store must hold each sample once")
        self._by_key[key] = rec
        return key

    @contextmanager
    def _locked(self):
        """The file opened for append under an exclusive flock (created if missing)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{self.path}: another process has held the results lock for over "
                            f"{self.lock_timeout_s:.0f} s; wait for it to finish or use another results file"
                        ) from None
                    time.sleep(0.02)
            yield fd
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _refresh(self, fd: int) -> None:
        """Under the lock: read what other writers appended, then cut a torn tail (a dead writer's)."""
        size = os.fstat(fd).st_size
        if size < self._valid_bytes:
            raise ValueError(f"{self.path}: the file shrank while open ({size} < {self._valid_bytes} bytes); "
                             "another tool rewrote it; reopen the store")
        if size > self._valid_bytes:
            added = self._scan(os.pread(fd, size - self._valid_bytes, self._valid_bytes))
            self._foreign |= added
        if os.fstat(fd).st_size != self._valid_bytes:
            os.ftruncate(fd, self._valid_bytes)
            os.fsync(fd)
        self.torn_tail = False

    def append(self, record: SampleRecord) -> None:
        self.extend([record])

    def extend(self, records: Iterable[SampleRecord]) -> None:
        """Append records, each flushed and fsync'd before the next is written."""
        records = list(records)
        keys = [rec.key() for rec in records]
        for rec, key in zip(records, keys):
            if key in self._by_key and key not in self._foreign:
                raise ValueError(f"{self.path}: sample {rec.problem_id}#{rec.sample_index} is already stored")
        lines = [(rec.to_json() + "\n").encode("utf-8") for rec in records]  # to_json checks the schema
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._write(records, keys, lines)
        except OSError as exc:  # a full disk or a read-only store: name the file (os.write does not)
            if exc.errno is None or exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc

    def _write(self, records: list[SampleRecord], keys: list[tuple], lines: list[bytes]) -> None:
        with self._locked() as fd:
            self._refresh(fd)
            for rec, key, line in zip(records, keys, lines):
                if key in self._foreign:
                    self.skipped_foreign += 1  # another writer stored this sample first: keep theirs
                    continue
                done = 0
                while done < len(line):  # a short write only on a full disk; os.write then raises
                    done += os.write(fd, line[done:])
                os.fsync(fd)
                self._valid_bytes += len(line)
                self._lines += 1
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
        """All records, optionally filtered by field equality, e.g. records(benchmark="aime24")."""
        return [r for r in self._by_key.values() if all(getattr(r, k) == v for k, v in where.items())]

    def summary(self, records: list[SampleRecord] | None = None, **kwargs) -> str:
        """A table per (model, method, lam, benchmark): see `evals.metrics.summary_table`."""

        return summary_table(list(self._by_key.values()) if records is None else records, **kwargs)


def read_records(path: str | Path) -> list[SampleRecord]:
    """All valid records of a results file (a torn last line ignored)."""
    return ResultsStore(path).records()
