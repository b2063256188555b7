"""One process of the parallel Merkle fold (:mod:`clearing.services.fold`); no Django.

    python -m clearing.fold_worker < job.json > result

The job (JSON on stdin, so the password never shows in a process list): ``conninfo`` (libpq
keywords), ``table``, ``clr_date`` (ISO), ``scheme``, ``lo``/``hi`` (the half-open ``setl_id`` range in byte
order; ``null`` for unbounded), ``offset`` (the global index of the range's first leaf), ``count``
(how many leaves the range holds), ``block`` (the proof block, a power of two), ``chunk``.

It streams the range's stored leaf hashes in ``setl_id`` byte order (keyset pages concatenated by
the server, as the serial close does) and folds every *global* ``block``-aligned block inside the
range. The leaves before the range's first block boundary (``head``) and after its last one
(``tail``) are returned raw, for the parent to stitch with the neighbouring ranges. Output on
stdout: one line ``count head_leaves blocks tail_leaves peak_rss_kb`` then the raw bytes (head
leaf hashes, block hashes, tail leaf hashes; 32 bytes each). Exit status 1 with a message on
stderr on any error (a leaf hash that is not 32 bytes included).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Iterator
from typing import Any

from clearing.merkle import StreamingRoot


def _chunks(conn: Any, job: dict[str, Any]) -> Iterator[bytes]:
    """The range's leaf hashes, ``chunk`` per query, concatenated by the server (binary)."""
    table = '"' + job["table"].replace('"', '""') + '"'
    upper = 'AND setl_id COLLATE "C" < %(hi)s ' if job["hi"] is not None else ""
    sql = (
        "SELECT string_agg(leaf, ''::bytea ORDER BY k), max(k), count(*), "  # noqa: S608 - quoted name
        "coalesce(bool_and(length(leaf) = 32), true) FROM ("
        f'SELECT leaf_hash AS leaf, setl_id COLLATE "C" AS k FROM {table} '
        f'WHERE clr_date = %(day)s AND scheme = %(scheme)s AND setl_id COLLATE "C" {{op}} %(after)s {upper}'
        'ORDER BY setl_id COLLATE "C" LIMIT %(n)s) s'
    )
    params = {"day": job["clr_date"], "scheme": job["scheme"], "hi": job["hi"], "n": job["chunk"],
              "after": job["lo"] or ""}
    op = ">="
    with conn.cursor() as cur:
        while True:
            cur.execute(sql.format(op=op), params, binary=True)
            data, last, cnt, all_32 = cur.fetchone()
            if not cnt:
                return
            if not all_32:
                raise ValueError(f"a stored leaf hash of the cycle {job['clr_date']} is not 32 bytes")
            yield bytes(data)
            if cnt < job["chunk"]:
                return
            params["after"], op = last, ">"


def _read_ahead(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """``chunks`` produced by a thread up to ``depth`` ahead, so the server walks the next chunk
    while this process folds one (the thread waits on the socket without the GIL)."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    end = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                ahead.put(chunk)
            ahead.put(end)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the consumer
            ahead.put(exc)

    threading.Thread(target=produce, name="leaf-chunks", daemon=True).start()
    while (item := ahead.get()) is not end:
        if isinstance(item, BaseException):
            raise item
        yield item


def fold_range(
    chunks: Iterator[bytes], offset: int, count: int, block: int
) -> tuple[int, bytes, list[bytes], bytes]:
    """Fold the leaf hashes of ``chunks`` (the range starting at global leaf ``offset`` and
    expected to hold ``count`` leaves). Returns ``(leaves seen, head, block hashes, tail)``."""
    head_n = min((-offset) % block, count)
    tail_from = head_n + (count - head_n) // block * block  # local index where the tail starts
    head, tail, seen = bytearray(), bytearray(), 0
    acc = StreamingRoot(block=block)
    for chunk in chunks:
        n = len(chunk) // 32
        lo, hi = seen, seen + n
        cut_a = min(max(head_n - lo, 0), n)  # leaves of this chunk in the head
        cut_b = min(max(tail_from - lo, cut_a), n)  # ... then in full blocks, then in the tail
        head += chunk[: cut_a * 32]
        if cut_b > cut_a:
            acc.extend(chunk[cut_a * 32 : cut_b * 32])
        tail += chunk[cut_b * 32 :]
        seen = hi
    return seen, bytes(head), acc.blocks, bytes(tail)


def _peak_rss_kb() -> int:
    try:
        with open("/proc/self/status") as f:
            return int(f.read().split("VmHWM:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def main() -> int:
    import psycopg

    job = json.loads(sys.stdin.read())
    try:
        with psycopg.connect(**job["conninfo"]) as conn:
            conn.read_only = True
            with conn.transaction():
                seen, head, blocks, tail = fold_range(
                    _read_ahead(_chunks(conn, job)), job["offset"], job["count"], job["block"]
                )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which falls back
        print(f"fold worker: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    out = sys.stdout.buffer
    out.write(f"{seen} {len(head) // 32} {len(blocks)} {len(tail) // 32} {_peak_rss_kb()}\n".encode())
    out.write(head)
    out.write(b"".join(blocks))
    out.write(tail)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
