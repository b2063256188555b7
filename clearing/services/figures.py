"""A cycle's figures computed in the database (spec/clearing.md §What a close computes).

Every sum comes from one ``GROUP BY payer, payee, fixmedins_code`` scan (:func:`item_groups`);
Python only adds up its (≤ 32 × 32 × institutions) rows into bilateral pairs, intra-province
totals and remittance lines, exactly (Decimal). The Merkle root folds the stored leaf hashes in
``setl_id`` byte order in chunks the server concatenates (:func:`leaf_hash_chunks`), level by level
(:meth:`clearing.merkle.StreamingRoot.extend`), so memory does not grow with the item count. On
PostgreSQL the next chunk is fetched while one is folded, and the aggregate scan runs on a second
connection meanwhile (:func:`_groups_beside`). docs/performance.md §The close has the figures.
Every reader takes the ``scheme`` (default ``medical``): one scheme's day is its own tree and sums.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Collate

from clearing import merkle
from clearing.models import ClearingItem, Scheme
from clearing.netting import Bilateral, Netting, net_positions
from core.money import ZERO, round2
from core.pooling import cursor_transaction

logger = logging.getLogger("kuasheng.clearing.figures")

GROUPS_BESIDE = True  # PostgreSQL: item_groups on a second connection during the leaf pass
BESIDE_LOCK_TIMEOUT = "5s"
CHUNK = 5000  # rows per fetch of leaf_hashes (the one-at-a-time stream proofs use)
READ_AHEAD = 2  # chunks fetched ahead of the Merkle fold by a thread (PostgreSQL) ...
READ_AHEAD_AFTER = 8  # ... once this many chunks (65,536 leaves) came directly
LEAF_CHUNK = 8192  # leaf hashes per chunk of leaf_hash_chunks (256 KB; the close's stream)
# planner settings for item_groups' one query (PostgreSQL): hash the groups in memory, never sort
GROUP_SETTINGS = {"work_mem": "32MB", "enable_sort": "off"}
PROOF_BLOCK = 1024  # leaves per stored block hash (clearing.merkle.range_hash): a power of two


@dataclass(frozen=True)
class RemittanceLine:
    admdvs: str
    fixmedins_code: str
    cnt: int
    amount: Decimal


@dataclass
class Figures:
    """Everything a close needs: netting (bilateral, nets, gross, …), intra-province totals per
    province ``{admdvs: (cnt, amount)}``, remittance lines, tree size and Merkle root (32 bytes),
    and the MTH of each aligned ``block_size``-leaf block (the proof index, kept on the head)."""

    netting: Netting
    intra: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    remittance: list[RemittanceLine] = field(default_factory=list)
    intra_remittance: list[RemittanceLine] = field(default_factory=list)
    tree_size: int = 0
    merkle_root: bytes = merkle.EMPTY_ROOT
    block_size: int = PROOF_BLOCK
    block_hashes: list[bytes] = field(default_factory=list)


def setl_id_order():  # noqa: ANN201 - an ORM expression
    """``setl_id`` compared as bytes: ``COLLATE "C"`` on PostgreSQL; SQLite's default is binary."""
    return Collate("setl_id", "C") if connection.vendor == "postgresql" else F("setl_id")


def cycle_items(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> QuerySet[ClearingItem]:
    """The scheme's cycle's items in Merkle (``setl_id`` byte) order."""
    return ClearingItem.objects.filter(clr_date=clr_date, scheme=scheme).order_by(setl_id_order())


def leaf_hashes(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> Iterator[bytes]:
    """Stored leaf hashes in tree order, one at a time, streamed (server-side cursor on PostgreSQL,
    inside a transaction: core.pooling)."""
    rows = cycle_items(clr_date, scheme).values_list("leaf_hash", flat=True)
    with cursor_transaction(rows.db):
        for h in rows.iterator(chunk_size=CHUNK):
            yield bytes(h)


def _leaf_chunks_pg(clr_date: dt.date, scheme: str) -> Generator[bytes, None, None]:
    """PostgreSQL: ``LEAF_CHUNK`` leaf hashes per query, concatenated by the server
    (``string_agg … ORDER BY setl_id COLLATE "C"``, keyset-paged on the ``(clr_date, scheme,
    setl_id COLLATE "C")`` index, binary results), so Python never touches a row. Runs on the calling
    thread's connection and transaction (the returned generator may be driven by another thread:
    psycopg serializes the connection's use)."""
    import psycopg  # PostgreSQL only

    qn = connection.ops.quote_name
    meta = ClearingItem._meta
    table, day, sch, setl, leaf = (
        qn(meta.db_table),
        qn(meta.get_field("clr_date").column),
        qn(meta.get_field("scheme").column),
        qn(meta.get_field("setl_id").column),
        qn(meta.get_field("leaf_hash").column),
    )
    # identifiers from the model's meta, quoted; values are bound
    sql = (
        f"SELECT string_agg(leaf, ''::bytea ORDER BY k), max(k), count(*), "  # noqa: S608
        f"coalesce(bool_and(length(leaf) = 32), true) FROM ("
        f'SELECT {leaf} AS leaf, {setl} COLLATE "C" AS k FROM {table} '
        f'WHERE {day} = %s AND {sch} = %s AND {setl} COLLATE "C" > %s '
        f'ORDER BY {setl} COLLATE "C" LIMIT %s) s'
    )
    connection.ensure_connection()
    pg = connection.connection

    def chunks() -> Generator[bytes, None, None]:
        last = ""  # below every setl_id in byte order
        # a server-side-binding cursor (Django's own are client-side, text only), same connection
        with psycopg.Cursor(pg) as cur:
            while True:
                # never a named prepared statement: PgBouncer's transaction pooling would hand the
                # next transaction another server connection (docs/scaling.md §PgBouncer)
                cur.execute(sql, [clr_date, scheme, last, LEAF_CHUNK], prepare=False, binary=True)
                row = cur.fetchone()
                if row is None:  # pragma: no cover - an aggregate always answers one row
                    return
                data, last, cnt, all_32 = row
                if not cnt:
                    return
                if not all_32:
                    raise ValueError(f"a stored leaf hash of the cycle {clr_date} is not 32 bytes")
                yield bytes(data)
                if cnt < LEAF_CHUNK:
                    return

    return chunks()


def _read_ahead(chunks: Generator[bytes, None, None], depth: int) -> Iterator[bytes]:
    """The items of ``chunks``, produced by a thread at most ``depth`` ahead of the consumer, so
    the database prepares the next chunk while Python folds this one (the thread waits on the
    socket without the GIL). Re-raises the producer's exception; stops and joins it on exit."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(exc)
        finally:
            chunks.close()

    thread = threading.Thread(target=produce, name="leaf-hash-chunks", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def leaf_hash_chunks(
    clr_date: dt.date, *, read_ahead: int = 0, scheme: str = Scheme.MEDICAL
) -> Iterator[bytes]:
    """Stored leaf hashes in tree (``setl_id`` byte) order, concatenated 32 bytes each, at most
    ``LEAF_CHUNK`` per chunk (what :meth:`clearing.merkle.StreamingRoot.extend` takes); with
    ``read_ahead`` on PostgreSQL, after the first ``READ_AHEAD_AFTER`` chunks, up to that many
    chunks are fetched ahead by a thread (memory: ``read_ahead`` + 2 chunks of 256 KB). Raises
    ``ValueError`` when a stored leaf hash is not 32 bytes."""
    if connection.vendor == "postgresql":
        gen = _leaf_chunks_pg(clr_date, scheme)
        chunks: Iterator[bytes] = gen
        if read_ahead:  # a small cycle does not need the thread: the first chunks come directly
            for _ in range(READ_AHEAD_AFTER):
                chunk = next(gen, None)
                if chunk is None:
                    return
                yield chunk
            chunks = _read_ahead(gen, read_ahead)
        yield from chunks
        return
    buf: list[bytes] = []
    for h in leaf_hashes(clr_date, scheme):
        if len(h) != 32:
            raise ValueError(f"a stored leaf hash of the cycle {clr_date} is not 32 bytes")
        buf.append(h)
        if len(buf) == LEAF_CHUNK:
            yield b"".join(buf)
            buf = []
    if buf:
        yield b"".join(buf)


def _sum(value: Decimal | None) -> Decimal:
    """A SQL ``SUM`` as exact yuan: PostgreSQL's numeric sum is exact already; SQLite sums REALs
    and its aggregate converter does not quantize, so round to the cent (amounts < 10^13 yuan)."""
    return round2(value) if value is not None else ZERO


def _lines(groups: dict[tuple[str, str, str], tuple[int, Decimal]], intra: bool) -> list[RemittanceLine]:
    """Remittance lines per ``(payee, fixmedins_code)`` from :func:`item_groups`, ordered by both
    (code-point order, which is the ``C`` collation's and SQLite's), cross-province or intra."""
    lines: dict[tuple[str, str], list] = {}
    for (payer, payee, code), (cnt, amount) in groups.items():
        if (payer == payee) == intra:
            acc = lines.setdefault((payee, code), [0, ZERO])
            acc[0] += cnt
            acc[1] += amount
    return [
        RemittanceLine(payee, code, cnt, amount) for (payee, code), (cnt, amount) in sorted(lines.items())
    ]


def item_groups(
    clr_date: dt.date, scheme: str = Scheme.MEDICAL
) -> dict[tuple[str, str, str], tuple[int, Decimal]]:
    """``{(payer, payee, fixmedins_code): (cnt, Σ clr_amt)}`` of the cycle: one ``GROUP BY`` scan,
    from which every figure of the close is derived (at most 32 × 32 × institutions rows).

    On PostgreSQL the planner cannot know how few triples there are (its estimate is capped at a
    tenth of the rows), so with the default 4 MB ``work_mem`` it may sort the whole day on disk
    (≈ 3× slower than hashing it). ``GROUP_SETTINGS`` (transaction-local, restored after the
    query) make it hash in memory (~10 k groups need ≈ 10 MB)."""
    rows = (
        ClearingItem.objects.filter(clr_date=clr_date, scheme=scheme)
        .values_list("payer", "payee", "fixmedins_code")
        .annotate(cnt=Count("id"), amount=Sum("clr_amt"))
        .order_by()
    )
    if connection.vendor != "postgresql":
        return {(payer, payee, code): (cnt, _sum(amount)) for payer, payee, code, cnt, amount in rows}
    with transaction.atomic(), connection.cursor() as cur:
        previous = {}
        for name, value in GROUP_SETTINGS.items():
            cur.execute("SELECT current_setting(%s)", [name])
            previous[name] = cur.fetchone()[0]
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
        # the ORM's SQL, run without its per-row converters: psycopg reads numeric as exact Decimal
        cur.execute(*rows.query.sql_with_params())
        groups = {(payer, payee, code): (cnt, _sum(amount)) for payer, payee, code, cnt, amount in cur}
        for name, value in previous.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
    return groups


def _item_groups_own_connection(
    clr_date: dt.date, scheme: str
) -> dict[tuple[str, str, str], tuple[int, Decimal]]:
    """:func:`item_groups` on this thread's own connection, closed afterwards. It gives up after
    ``BESIDE_LOCK_TIMEOUT`` waiting for a lock (a caller's transaction holding a table lock would
    otherwise block it while that transaction waits for it)."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [BESIDE_LOCK_TIMEOUT])
            return item_groups(clr_date, scheme=scheme)
    finally:
        connection.close()


def _groups_beside(clr_date: dt.date, scheme: str, fold: Callable[[], int]) -> dict:
    """Run ``fold`` (returns the number of leaves) while :func:`item_groups` runs on a second
    connection (PostgreSQL: the aggregate scan and the leaf stream proceed at once). The second
    connection sees committed items only; a cut cycle's items are all committed and never change,
    so its counts add up to the leaf count — if they do not (items written by the closing
    transaction itself, as in tests), the groups are computed again on this connection."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="item-groups") as pool:
        future = pool.submit(_item_groups_own_connection, clr_date, scheme)
        size = fold()
        try:
            groups = future.result()
        except Exception:  # noqa: BLE001 - computed again below on the close's own connection
            logger.warning("item groups on a second connection failed", exc_info=True)
            groups = None
    if groups is None or sum(cnt for cnt, _ in groups.values()) != size:
        groups = item_groups(clr_date, scheme=scheme)
    return groups


def fold_ranges(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> list[str]:
    """The ``setl_id`` bounds of the parallel fold's ranges; ``[]`` folds serially."""
    from clearing.services import fold as parallel

    return parallel.range_bounds(clr_date, scheme, parallel.workers())


def cycle_figures(clr_date: dt.date, *, scheme: str = Scheme.MEDICAL) -> Figures:
    """Compute the figures of the ``scheme``'s cycle ``clr_date`` from its items (read-only): one aggregate
    scan (:func:`item_groups`; bilateral pairs, intra-province totals and both remittance lists
    are exact Decimal sums of its rows) and one ordered pass over the leaf hashes (on PostgreSQL
    both at once, :func:`_groups_beside`; for a large day the fold runs in one process per core,
    :mod:`clearing.services.fold`). Raises ``ValueError`` when a stored leaf hash is not
    32 bytes."""
    acc = merkle.StreamingRoot(block=PROOF_BLOCK)

    def fold() -> int:
        for chunk in leaf_hash_chunks(clr_date, read_ahead=READ_AHEAD, scheme=scheme):
            acc.extend(chunk)
        return acc.size

    bounds = fold_ranges(clr_date, scheme) if connection.vendor == "postgresql" else []
    if bounds:  # a large day on PostgreSQL: the fold on all cores (clearing.services.fold)
        from clearing.services import fold as parallel

        counts = parallel.range_counts(clr_date, scheme, bounds)
        done, groups = parallel.parallel_fold(
            clr_date, scheme, bounds, counts, PROOF_BLOCK, beside=lambda: item_groups(clr_date, scheme=scheme)
        )
        if done is not None and sum(cnt for cnt, _ in groups.values()) == sum(counts):
            acc = done[0]
        else:
            fold()
    elif connection.vendor == "postgresql" and GROUPS_BESIDE:
        groups = _groups_beside(clr_date, scheme, fold)
    else:
        groups = item_groups(clr_date, scheme=scheme)
        fold()
    pairs: dict[tuple[str, str], list] = {}
    intra: dict[str, list] = {}
    for (payer, payee, _code), (cnt, amount) in groups.items():
        acc_ = (
            intra.setdefault(payer, [0, ZERO])
            if payer == payee
            else pairs.setdefault((payer, payee), [0, ZERO])
        )
        acc_[0] += cnt
        acc_[1] += amount
    netting = net_positions(
        Bilateral(payer, payee, cnt, amount) for (payer, payee), (cnt, amount) in pairs.items()
    )
    return Figures(
        netting=netting,
        intra={adm: (cnt, amount) for adm, (cnt, amount) in sorted(intra.items())},
        remittance=_lines(groups, intra=False),
        intra_remittance=_lines(groups, intra=True),
        tree_size=acc.size,
        merkle_root=acc.root(),
        block_size=PROOF_BLOCK,
        block_hashes=acc.block_hashes(),
    )
