"""The close's Merkle fold on all cores (PostgreSQL): one process per ``setl_id`` range.

The RFC 9162 tree splits at power-of-two boundaries, so the MTH of every aligned
``PROOF_BLOCK``-leaf block can be computed apart from the others. The close:

1. picks ``k`` range bounds from a page sample of the day's items (:func:`range_bounds`; balance
   only affects speed, never the result);
2. runs the one aggregate scan of the day, which also counts each range's items
   (:func:`groups_and_range_counts`; PostgreSQL runs it with parallel workers), so each range's
   global leaf offset is known;
3. starts ``k`` processes (:mod:`clearing.fold_worker`, no Django), each streaming its own range
   on its own connection and folding the blocks inside it; the leaves before a range's first
   block boundary and after its last come back raw;
4. stitches them in order into one :class:`clearing.merkle.StreamingRoot` (:func:`stitch`): the
   same root and block hashes as the serial fold, so the signed bytes do not change.

The workers see committed rows only. A cut cycle's items are all committed and never change, so
their counts match those taken on the close's own connection; when they do not (items
written by the closing transaction itself, as in tests) or a worker fails, :func:`parallel_fold`
returns ``None`` and the close folds serially on its own connection.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection

from clearing import merkle
from clearing.models import ClearingItem

logger = logging.getLogger("kuasheng.clearing.fold")

LIBPQ_KEYS = ("dbname", "user", "password", "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey",
              "connect_timeout", "options", "application_name", "target_session_attrs", "service")
SAMPLE_PAGES = 500  # TABLESAMPLE SYSTEM: about this many pages (4 MB) read to place the bounds
WORKER_TIMEOUT = 3600  # seconds; above the longest close
CHUNK = 8192  # leaf hashes per query in a worker (256 KB)
T = TypeVar("T")


def workers() -> int:
    """Processes of the parallel fold: ``CLEARING_CLOSE_WORKERS`` (default: the machine's cores)."""
    return int(getattr(settings, "CLEARING_CLOSE_WORKERS", 0) or os.cpu_count() or 1)


def min_items() -> int:
    """Below this many items (estimated from the sample) the fold stays serial: starting the
    processes costs more than it saves. ``CLEARING_CLOSE_PARALLEL_MIN_ITEMS``."""
    return int(getattr(settings, "CLEARING_CLOSE_PARALLEL_MIN_ITEMS", 200_000))


def range_bounds(clr_date: dt.date, scheme: str, k: int) -> list[str]:
    """``k - 1`` increasing ``setl_id`` bounds splitting the day into ``k`` ranges of about equal
    size, from a sample of about ``SAMPLE_PAGES`` pages of the table holding the day (on
    PostgreSQL the day's monthly partition; no other partition is read or locked); ``[]`` when
    the scheme's day looks smaller than :func:`min_items` (or ``k`` < 2)."""
    if k < 2:
        return []
    table = connection.ops.quote_name(ClearingItem._meta.db_table)
    with connection.cursor() as cur:
        # the pages of the table holding the day: its monthly partition on PostgreSQL
        # (clearing.partitions; found by a pruned one-row read, so no other partition is opened)
        cur.execute(
            f"SELECT tableoid::regclass FROM {table} WHERE clr_date = %s AND scheme = %s LIMIT 1",  # noqa: S608
            [clr_date, scheme],
        )
        row = cur.fetchone()
        if row is None:
            return []
        cur.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [row[0]]
        )
        pages = int(cur.fetchone()[0]) or 1
        percent = min(100.0, 100.0 * SAMPLE_PAGES / pages)
        # the quantiles are taken by the server: memory does not grow with the sample
        cur.execute(
            f'SELECT count(*), percentile_disc(%s) WITHIN GROUP (ORDER BY setl_id COLLATE "C") '  # noqa: S608
            f"FROM {table} TABLESAMPLE SYSTEM (%s) WHERE clr_date = %s AND scheme = %s",
            [[i / k for i in range(1, k)], percent, clr_date, scheme],
        )
        sampled, bounds = cur.fetchone()
    if sampled * 100 / percent < min_items() or sampled < k:
        return []
    return sorted(set(bounds))


def range_counts(clr_date: dt.date, scheme: str, bounds: list[str]) -> list[int]:
    """The item count of each of the ``len(bounds) + 1`` ranges of the scheme's day: one count on
    the close's own connection over the Merkle-order index (an index-only scan once vacuumed)."""
    table = connection.ops.quote_name(ClearingItem._meta.db_table)
    below = "".join('count(*) FILTER (WHERE setl_id COLLATE "C" < %s), ' for _ in bounds)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {below}count(*) FROM {table} WHERE clr_date = %s AND scheme = %s",  # noqa: S608
            [*bounds, clr_date, scheme],
        )
        *under, total = cur.fetchone()
    edges = [0, *under, total]
    return [edges[i + 1] - edges[i] for i in range(len(bounds) + 1)]


@dataclass
class RangeFold:
    """What a worker returns: leaves seen, raw head leaves, block hashes, raw tail leaves (32
    bytes each, concatenated), and the worker's own peak RSS in KB."""

    seen: int
    head: bytes
    blocks: bytes
    tail: bytes
    peak_rss_kb: int


def _conninfo() -> dict[str, Any]:
    connection.ensure_connection()
    params = connection.get_connection_params()
    return {k: params[k] for k in LIBPQ_KEYS if params.get(k) not in (None, "")}


def _start(job: dict[str, Any]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clearing.fold_worker"],
        cwd=str(settings.BASE_DIR),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(job).encode())
    proc.stdin.close()
    proc.stdin = None  # sent; communicate() only reads
    return proc


def _result(proc: subprocess.Popen) -> RangeFold:
    out, err = proc.communicate(timeout=WORKER_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip() or f"exit status {proc.returncode}")
    line, _, raw = out.partition(b"\n")
    seen, heads, blocks, tails, rss = (int(x) for x in line.split())
    if len(raw) != 32 * (heads + blocks + tails):
        raise RuntimeError("truncated worker output")
    a, b = 32 * heads, 32 * (heads + blocks)
    return RangeFold(seen, raw[:a], raw[a:b], raw[b:], rss)


def stitch(parts: list[RangeFold], block: int) -> merkle.StreamingRoot:
    """The fold of all ranges in order: raw head leaves, then each block hash as an aligned
    subtree, then raw tail leaves (the next range's head completes the block)."""
    acc = merkle.StreamingRoot(block=block)
    for part in parts:
        acc.extend(part.head)
        for i in range(0, len(part.blocks), 32):
            acc.push_subtree(part.blocks[i : i + 32], block)
        acc.extend(part.tail)
    return acc


def parallel_fold(
    clr_date: dt.date,
    scheme: str,
    bounds: list[str],
    counts: list[int],
    block: int,
    beside: Callable[[], T],
) -> tuple[tuple[merkle.StreamingRoot, list[RangeFold]] | None, T]:
    """Fold the day's leaves in ``len(bounds) + 1`` processes (ranges split at ``bounds``, holding
    ``counts`` items each), running ``beside()`` (the aggregate scan) on this connection while
    they work. Returns ``((stitched fold, each worker's result) or None, beside's result)``:
    ``None`` when a worker failed or saw another number of leaves than ``counts`` says (then
    fold serially)."""
    conninfo = _conninfo()
    edges: list[str | None] = [None, *bounds, None]
    jobs, offset = [], 0
    for i, count in enumerate(counts):
        jobs.append({
            "conninfo": conninfo, "table": ClearingItem._meta.db_table, "clr_date": clr_date.isoformat(),
            "scheme": scheme,
            "lo": edges[i], "hi": edges[i + 1], "offset": offset, "count": count, "block": block,
            "chunk": CHUNK,
        })
        offset += count
    procs = [_start(job) for job in jobs]
    try:
        aside = beside()
    except BaseException:
        for proc in procs:
            proc.kill()
            proc.wait()
        raise
    parts: list[RangeFold] = []
    failure = ""
    for proc, job in zip(procs, jobs, strict=True):
        try:
            part = _result(proc)
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
            proc.kill()
            failure = failure or f"range from {job['lo']!r}: {exc}"
            continue
        if part.seen != job["count"]:
            failure = failure or f"range from {job['lo']!r}: {part.seen} leaves, {job['count']} counted"
        parts.append(part)
    if failure:
        logger.warning("parallel fold of %s falls back to serial: %s", clr_date, failure)
        return None, aside
    return (stitch(parts, block), parts), aside
