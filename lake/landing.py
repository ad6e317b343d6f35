"""The ingestion landing log: where accepted batches wait, durably, for the committer.

One log per API process (``writer_id``), a folder of append-only segment files. Each
accepted request is one record: a header (magic, lengths, sequence number, receive time,
CRC-32), a small JSON ``meta`` (source, the ids it adds, the indexes of events that were
replays, the name of the source key) and the request body exactly as the client sent it,
kept for replay. A batch is
acknowledged only after its record is written and fsync'd (ARCHITECTURE.md decision 2).

A crash can leave a half-written record at the very end; it was never acknowledged, and
opening the log for writing cuts it off. The ids of every retained record are held in
memory, so a replayed event id is recognised at the door and never landed twice.

The committer reads records after a sequence number; how far it got is stored inside the
Delta commit (a transaction identifier), so the log keeps no checkpoint that could lie.
"""

import collections
import itertools
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from learnlake.errors import LearnLakeError

log = logging.getLogger(__name__)

MAGIC = b"LLG1"
# magic, meta length, body length, sequence number, received at (µs since epoch), crc32(meta + body)
HEADER = struct.Struct("<4sIIQQI")
SEGMENT_BYTES = 64 * 1024 * 1024
COMMITTED_FILE = "committed_seq"


class LandingLogCorrupt(LearnLakeError):
    """A landing log segment is damaged somewhere other than its last, unacknowledged record."""


@dataclass(frozen=True)
class LandedBatch:
    """One accepted request: its events are ``body`` minus the indexes in ``skip`` (replays)."""

    seq: int
    received_at_us: int
    source: str
    ids: list[str]
    skip: list[int]
    body: bytes
    source_key: str | None = None  # the name of the source key it came with
    request_id: str | None = None  # the API request that landed it: follows the events into the commit's log line


@dataclass(frozen=True)
class Backlog:
    batches: int
    events: int
    oldest_received_at_us: int | None


def _segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}.log"


def _scan(path: Path, offset: int = 0, *, include_body: bool = True) -> Iterator[tuple[int, int, LandedBatch | None]]:
    """Yield ``(offset, end, batch)`` per intact record from ``offset`` (a record boundary) on;
    ``batch`` is None at a damaged or incomplete record, and the scan stops there."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while True:
            header = fh.read(HEADER.size)
            if not header:
                return
            if len(header) < HEADER.size:
                yield offset, offset, None
                return
            magic, meta_len, body_len, seq, received_at_us, crc = HEADER.unpack(header)
            payload = fh.read(meta_len + body_len)
            if magic != MAGIC or len(payload) < meta_len + body_len or zlib.crc32(payload) != crc:
                yield offset, offset, None
                return
            meta = orjson.loads(payload[:meta_len])
            end = offset + HEADER.size + meta_len + body_len
            body = payload[meta_len:] if include_body else b""
            yield offset, end, LandedBatch(seq, received_at_us, meta["source"], meta["ids"], meta["skip"], body,
                                           meta.get("key"), meta.get("rid"))
            offset = end


class LandingLog:
    """An append-only, fsync'd, deduplicating log of accepted batches (thread-safe).

    Args:
        directory: the log's own folder (one per writer).
        writer_id: the identity of the writing process; part of the committer's Delta app id.
        readonly: open for reading only (a committer beside the writing API): no batch is
            appended and nothing is truncated; only the committed position is recorded.
    """

    def __init__(self, directory: Path, writer_id: str, *, readonly: bool = False) -> None:
        self.directory = Path(directory)
        self.writer_id = writer_id
        self.readonly = readonly
        self._lock = threading.Lock()
        self._accepted: set[str] = set()
        self._last_seq = 0
        self._file = None
        self._cursor: tuple[int, Path, int] | None = None  # (seq read up to, segment, offset after it)
        # (seq, received at in µs, events) of batches not yet known to be committed, oldest first: the backlog
        self._pending: collections.deque[tuple[int, int, int]] = collections.deque()
        if not readonly:
            self.directory.mkdir(parents=True, exist_ok=True)
            Path(self.directory, WRITER_FILE).write_text(str(os.getpid()))
        self._recover()

    # -- opening -------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        return sorted(self.directory.glob("*.log")) if self.directory.exists() else []

    def _recover(self) -> None:
        segments = self.segments()
        committed = self.committed_seq()
        for index, path in enumerate(segments):
            for offset, _end, batch in _scan(path, include_body=False):
                if batch is None:
                    if index != len(segments) - 1:
                        msg = f"landing log {path} is damaged at byte {offset}, before its last segment"
                        raise LandingLogCorrupt(msg)
                    if not self.readonly:
                        log.warning("landing log %s: cutting an unacknowledged partial record at byte %s", path, offset)
                        with open(path, "r+b") as fh:
                            fh.truncate(offset)
                            os.fsync(fh.fileno())
                    break
                self._accepted.update(batch.ids)
                self._last_seq = batch.seq
                if batch.seq > committed:
                    self._pending.append((batch.seq, batch.received_at_us, len(batch.ids)))
        if not segments:
            self._last_seq = self.committed_seq()

    def _writable_file(self, incoming: int):
        if self._file is not None and self._file.tell() + incoming <= SEGMENT_BYTES:
            return self._file
        if self._file is not None:
            self._file.close()
        segments = self.segments()
        if segments and segments[-1].stat().st_size + incoming <= SEGMENT_BYTES:
            path = segments[-1]
        else:
            path = self.directory / _segment_name(self._last_seq + 1)
        self._file = open(path, "ab")  # noqa: SIM115 - kept open across appends
        if not segments or path != segments[-1]:
            _fsync_directory(self.directory)  # the new file's name must survive a crash too
        return self._file

    # -- writing -------------------------------------------------------------------------

    def append(self, ids: Sequence[str], body: bytes, *, source: str, source_key: str | None = None,
               received_at_us: int | None = None, request_id: str | None = None,
               accepted_elsewhere: Collection[str] = ()) -> int:
        """Land one batch durably. ``ids`` are the batch's event ids in body order; ``source_key`` is
        the name of the key the client sent them with; ``request_id`` the API request's id;
        ``accepted_elsewhere`` ids another API replica has claimed (``lake/event_claims.py``), replays too.

        Returns:
            how many events were new; replays of earlier ids are acknowledged, not landed again.
        """
        if self.readonly:
            raise LearnLakeError("this landing log was opened read-only")
        received_at_us = received_at_us or time.time_ns() // 1000
        with self._lock:
            accepted = self._accepted
            skip = [i for i, event_id in enumerate(ids) if event_id in accepted or event_id in accepted_elsewhere]
            if len(skip) == len(ids):
                return 0
            skipped = set(skip)
            new_ids = [event_id for i, event_id in enumerate(ids) if i not in skipped] if skip else list(ids)
            meta = orjson.dumps({"source": source, "ids": new_ids, "skip": skip, "key": source_key,
                                 "rid": request_id})
            seq = self._last_seq + 1
            payload = meta + body
            record = HEADER.pack(MAGIC, len(meta), len(body), seq, received_at_us, zlib.crc32(payload)) + payload
            fh = self._writable_file(len(record))
            start = fh.tell()
            try:
                fh.write(record)
                fh.flush()
                os.fsync(fh.fileno())
            except BaseException:
                fh.truncate(start)  # nothing half-written stays behind a failed append
                raise
            self._last_seq = seq
            self._accepted.update(new_ids)
            self._pending.append((seq, received_at_us, len(new_ids)))
            return len(new_ids)

    # -- reading -------------------------------------------------------------------------

    def read_after(self, seq: int, max_events: int) -> list[LandedBatch]:
        """Batches with a sequence number above ``seq``, in order, at most ``max_events`` events in all
        (but always at least one batch)."""
        batches: list[LandedBatch] = []
        events = 0
        from_cursor = self._cursor is not None and self._cursor[0] == seq
        for path, offset in self._start_points(seq):
            for _, end, batch in _scan(path, offset):
                if batch is None:
                    if from_cursor and not batches and offset:
                        # The segment was rewritten since (committed bodies stripped): its offsets moved.
                        self._cursor = None
                        return self.read_after(seq, max_events)
                    return batches  # a record still being written (another process) or torn
                if batch.seq <= seq:
                    continue
                if batches and events + len(batch.ids) > max_events:
                    return batches  # whole batches only; at least one even if it is larger
                batches.append(batch)
                events += len(batch.ids)
                self._cursor = (batch.seq, path, end)
        return batches

    def _start_points(self, seq: int) -> list[tuple[Path, int]]:
        segments = self.segments()
        if self._cursor is not None and self._cursor[0] == seq and self._cursor[1] in segments:
            _, path, offset = self._cursor
            return [(path, offset)] + [(p, 0) for p in segments if p > path]
        # The segment that may hold seq + 1 is the last one starting at or before it.
        first = max((i for i, p in enumerate(segments) if int(p.stem) <= seq + 1), default=0)
        return [(p, 0) for p in segments[first:]]

    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    # -- progress and pruning ----------------------------------------------------------

    def committed_seq(self) -> int:
        """The last sequence number the committer reported as in Delta (a cache, for pruning)."""
        path = self.directory / COMMITTED_FILE
        return int(path.read_text()) if path.exists() else 0

    def mark_committed(self, seq: int) -> None:
        if seq <= self.committed_seq():
            return
        tmp = self.directory / f".{COMMITTED_FILE}.{os.getpid()}.tmp"
        tmp.write_text(str(seq))
        os.replace(tmp, self.directory / COMMITTED_FILE)

    def backlog(self) -> int:
        """Batches landed but not yet known to be in Delta."""
        return max(0, self.last_seq() - self.committed_seq())

    def oldest_pending_received_at_us(self) -> int | None:
        """When the oldest batch not yet known to be in Delta was received (µs since the epoch); None
        when every batch is committed. Its age is how far behind the committer is."""
        return self.pending().oldest_received_at_us

    def pending(self) -> "Backlog":
        """The batches not yet known to be in Delta: how many, their events, and the oldest one's arrival."""
        committed = self.committed_seq()
        with self._lock:
            while self._pending and self._pending[0][0] <= committed:
                self._pending.popleft()
            return Backlog(batches=max(0, self._last_seq - committed),
                           events=sum(events for _, _, events in self._pending),
                           oldest_received_at_us=self._pending[0][1] if self._pending else None)

    def prune(self, *, keep_s: float) -> int:
        """Delete whole segments that are committed and older than ``keep_s``; returns how many.

        Replays of ids in deleted segments are no longer recognised at the door, so keep
        segments at least as long as clients may retry.
        """
        committed = self.committed_seq()
        cutoff = time.time() - keep_s
        removed = 0
        with self._lock:
            segments = self.segments()
            for path, following in itertools.pairwise(segments):  # never the segment being written
                last_in_segment = int(following.stem) - 1
                if last_in_segment > committed or path.stat().st_mtime > cutoff:
                    break
                for _, _, batch in _scan(path, include_body=False):
                    if batch is not None:
                        self._accepted.difference_update(batch.ids)
                path.unlink()
                removed += 1
        return removed

    # -- stripping committed bodies (erasure) -------------------------------------------------

    def strip_committed(self) -> int:
        """Drop the bodies of committed records, keeping their ids for replay detection; returns how many
        segments were rewritten. Once in Delta a body is only a copy of personal data, which erasure must
        reach. Each segment is rewritten to a new file and renamed over the old one. The segment being
        written is rewritten only by its writer (under the lock its appends take); a read-only log leaves
        it to the writer (``request_strip``)."""
        committed = self.committed_seq()
        rewritten = 0
        with self._lock:
            segments = self.segments()
            for index, path in enumerate(segments):
                active = index == len(segments) - 1
                if active and self.readonly:
                    continue
                if active and self._file is not None:
                    self._file.close()
                    self._file = None
                rewritten += _strip_segment(path, committed)
            self._cursor = None
        self.directory.joinpath(STRIP_REQUEST).unlink(missing_ok=True)
        return rewritten

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


STRIP_REQUEST = "strip.requested"  # a file: the writer strips committed bodies at its next turn
WRITER_FILE = "writer.pid"  # the writing process's pid, so another process knows whether it lives


def request_strip(directory: Path) -> None:
    """Ask the process writing the log in ``directory`` to strip its committed bodies (``strip_committed``)."""
    Path(directory, STRIP_REQUEST).touch()


def strip_requested(directory: Path) -> bool:
    return Path(directory, STRIP_REQUEST).exists()


def writer_alive(directory: Path) -> bool:
    """Whether a live process on this host writes the log in ``directory``."""
    try:
        pid = int(Path(directory, WRITER_FILE).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _strip_segment(path: Path, committed: int) -> int:
    """Rewrite ``path`` with empty bodies for records up to ``committed``; 1 if it changed, else 0."""
    records, changed = [], False
    for _offset, _end, batch in _scan(path):
        if batch is None:
            break
        body = batch.body
        if batch.seq <= committed and body:
            body, changed = b"", True
        meta = orjson.dumps({"source": batch.source, "ids": batch.ids, "skip": batch.skip, "key": batch.source_key,
                             "rid": batch.request_id})
        payload = meta + body
        records.append(HEADER.pack(MAGIC, len(meta), len(body), batch.seq, batch.received_at_us, zlib.crc32(payload))
                       + payload)
    if not changed:
        return 0
    tmp = path.with_suffix(".strip")
    with open(tmp, "wb") as fh:
        fh.writelines(records)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_directory(path.parent)
    return 1


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
