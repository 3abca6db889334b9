"""Assessing a batch's records in chunks: in this process (one job) or in worker processes.

    assessed_chunks(records, rules, fmt, jobs) -> Encoded per chunk, in input order

The parent reads the input and writes the output; each chunk of records is assessed and encoded
in the output format by a worker (``jobs`` > 1) or here (``jobs`` == 1). Chunks come back in
input order whatever finishes first, so the output is byte for byte what one job writes.
Memory stays bounded: at most ``2 * jobs`` chunks are in flight, and the input is read only as
fast as chunks come back.

Workers are started by the platform's safest method (forkserver on Linux, spawn elsewhere;
never a plain fork of a process that may run a progress-bar thread). Each gets the compiled
rule set once, when it starts (not per chunk), and keeps its own parse memo. Workers ignore
Ctrl-C: the parent handles it (no file is left; see OutputFile) and stops them.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from .batch_output import Encoded, OutputFormat, encode, outcome

if TYPE_CHECKING:
    from mgassist._core.ruleset import RuleSet

    from .batch_records import Record

__all__ = ["CHUNK_RECORDS", "assessed_chunks", "chunks", "cpu_count"]

T = TypeVar("T")
CHUNK_RECORDS = 1024  # records per chunk: large enough to pay for a trip to a worker


def cpu_count() -> int:
    """The CPUs this process may run on (``--jobs 0``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def keep_out_of_collections() -> None:
    """Leave what is alive now (the rules, the modules) out of the garbage collector's full
    collections: they live as long as the batch, and rescanning them as records come and go
    cost a batch several per cent of its time. Records themselves are collected as usual."""
    gc.freeze()


def chunks(records: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """The records in lists of ``size`` (default CHUNK_RECORDS; the last one shorter)."""
    size = size or CHUNK_RECORDS
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def assess_chunk(chunk: list[Record], rules: RuleSet, fmt: OutputFormat,
                 memo: dict[Any, Any]) -> Encoded:
    """One chunk assessed and encoded (pure apart from the memo)."""
    summary = fmt is not OutputFormat.JSONL  # the summary formats need no text
    return encode(fmt, ((record.line, outcome(record, rules, memo, summary=summary))
                        for record in chunk))


def assessed_chunks(records: Iterable[Record], rules: RuleSet, fmt: OutputFormat,
                    jobs: int, *, lines: Iterable[tuple[int, bytes]] | None = None
                    ) -> Generator[Encoded, None, None]:
    """Each chunk of ``records`` assessed and encoded, in input order.

    ``lines``: with workers, a JSON Lines input's (number, line) pairs (``jsonl_lines``) to
    use instead of ``records``: the workers parse them, so the parent only splits lines."""
    if jobs <= 1:
        memo: dict[Any, Any] = {}
        for chunk in chunks(records):
            yield assess_chunk(chunk, rules, fmt, memo)
        return
    portable: Iterator[list[Any]] = chunks(lines) if lines is not None else \
        ([_portable(record) for record in chunk] for chunk in chunks(records))
    yield from _in_workers(portable, rules, fmt, jobs)


# --- the workers ---------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(rules: RuleSet, fmt: OutputFormat) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER.update(rules=rules, fmt=fmt, memo={})
    keep_out_of_collections()


def _worker_chunk(chunk: list[Any]) -> Encoded:
    return assess_chunk([_record(item) for item in chunk], _WORKER["rules"], _WORKER["fmt"],
                        _WORKER["memo"])


# A record as sent to a worker: plain values, no exception object. (Pickling exceptions is
# fragile: a library may replace how every exception class pickles - dask, which pint imports
# when it is installed, does - and an InputError is a frozen dataclass.)
Portable = tuple[int, "dict[str, Any] | None", "tuple[str, str, str, str, str] | None",
                 "str | None"]


def _portable(record: Record) -> Portable:
    problem = record.problem
    return (record.line, record.raw, None if problem is None else (
        problem.field, problem.value, problem.problem, problem.accepted, problem.label),
        record.id)


def _record(item: Portable | tuple[int, bytes]) -> Record:
    from mgassist._core.errors import InputError

    from .batch_records import Record, jsonl_record

    if len(item) == 2:  # a JSON Lines line, not yet parsed
        return jsonl_record(*item)
    line, raw, problem, record_id = item
    return Record(line, raw, None if problem is None else InputError(*problem), record_id)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server imports the engine once; each worker forked from it starts warm.
    context.set_forkserver_preload([__name__, "mgassist._core.engine",
                                    "mgassist._core.patient"])
    return context


def _in_workers(pending: Iterator[list[Any]], rules: RuleSet, fmt: OutputFormat,
                jobs: int) -> Iterator[Encoded]:
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(),
                               initializer=_start_worker, initargs=(rules, fmt))
    in_flight: deque[Future[Encoded]] = deque()
    finished = False
    try:
        for chunk in islice(pending, 2 * jobs):
            in_flight.append(pool.submit(_worker_chunk, chunk))
        while in_flight:
            done = in_flight.popleft().result()
            for chunk in islice(pending, 1):  # read on only as fast as chunks come back
                in_flight.append(pool.submit(_worker_chunk, chunk))
            yield done
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # Ctrl-C, an unusable input, or the consumer stopped: stop the workers now
            for future in in_flight:
                future.cancel()
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
