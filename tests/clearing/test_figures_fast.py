"""The close's fast figures (one GROUP BY scan, leaf hashes in server-concatenated chunks folded
level by level) equal the straightforward computation they replaced, field for field and in the
signed head's bytes: four ORM aggregates and one ``StreamingRoot.add`` per leaf hash."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import Count, F, Sum

from clearing import merkle
from clearing.leaf import leaf_bytes, leaf_hash
from clearing.models import ClearingItem
from clearing.netting import Bilateral, net_positions
from clearing.services import figures as fig
from clearing.services.close import cycle_close
from clearing.services.cycles import cycle_ensure, open_cycle_date
from clearing.services.documents import GENESIS, head_document
from core.canonical import canonical_bytes

pytestmark = pytest.mark.django_db

PROVINCES = ["110000", "310000", "340000", "440000", "650000"]


def reference_figures(clr_date: dt.date) -> fig.Figures:
    """The figures as computed before the fast path (the former ``cycle_figures``)."""
    items = ClearingItem.objects.filter(clr_date=clr_date)
    cross = items.exclude(payer=F("payee"))
    intra = items.filter(payer=F("payee"))

    def lines(qs, key):
        rows = (
            qs.values(key, "fixmedins_code")
            .annotate(cnt=Count("id"), amount=Sum("clr_amt"))
            .order_by(key, "fixmedins_code")
        )
        return [
            fig.RemittanceLine(r[key], r["fixmedins_code"], r["cnt"], fig._sum(r["amount"])) for r in rows
        ]

    pairs = (
        cross.values("payer", "payee")
        .annotate(cnt=Count("id"), amount=Sum("clr_amt"))
        .order_by("payer", "payee")
    )
    netting = net_positions(Bilateral(r["payer"], r["payee"], r["cnt"], fig._sum(r["amount"])) for r in pairs)
    intra_totals = {
        r["payer"]: (r["cnt"], fig._sum(r["amount"]))
        for r in intra.values("payer").annotate(cnt=Count("id"), amount=Sum("clr_amt")).order_by("payer")
    }
    acc = merkle.StreamingRoot(block=fig.PROOF_BLOCK)
    for h in fig.leaf_hashes(clr_date):
        acc.add(h)
    return fig.Figures(
        netting=netting,
        intra=intra_totals,
        remittance=lines(cross, "payee"),
        intra_remittance=lines(intra, "payee"),
        tree_size=acc.size,
        merkle_root=acc.root(),
        block_size=fig.PROOF_BLOCK,
        block_hashes=acc.block_hashes(),
    )


def _load(clr_date: dt.date, n: int, seed: int) -> None:
    rng = random.Random(seed)
    cycle = cycle_ensure(clr_date)
    rows = []
    for i in range(n):
        payer = rng.choice(PROVINCES)
        payee = payer if rng.random() < 0.2 else rng.choice(PROVINCES)
        kind = "reversal" if rng.random() < 0.1 else "settlement"
        cents = rng.randrange(1, 2_000_000)
        amount = Decimal(-cents if kind == "reversal" else cents) / 100
        code = f"H{payee}{rng.randrange(1, 4):05d}"
        sid = f"S{rng.getrandbits(40):012x}{i:06d}"
        data = leaf_bytes(
            setl_id=sid,
            kind=kind,
            payer=payer,
            payee=payee,
            clr_amt=amount,
            fixmedins_code=code,
            clr_date=clr_date,
        )
        rows.append(
            ClearingItem(
                setl_id=sid,
                kind=kind,
                payer=payer,
                payee=payee,
                clr_amt=amount,
                fixmedins_code=code,
                cycle=cycle,
                leaf_hash=leaf_hash(data),
            )
        )
    ClearingItem.objects.bulk_create(rows, batch_size=1000)


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 2600])
def test_fast_figures_equal_the_reference(n, monkeypatch):
    monkeypatch.setattr(fig, "LEAF_CHUNK", 1000)  # chunk boundaries off the 1024-leaf blocks
    monkeypatch.setattr(fig, "READ_AHEAD_AFTER", 1)  # the read-ahead thread from the 2nd chunk
    monkeypatch.setattr(merkle, "RUN", 64)
    clr_date = open_cycle_date()
    _load(clr_date, n, seed=n)
    ours, ref = fig.cycle_figures(clr_date), reference_figures(clr_date)
    assert ours.tree_size == n
    assert repr(ours) == repr(ref)  # Decimal exponents included
    if n > 100:  # every kind of figure is exercised
        assert ours.netting.item_cnt > 0 and ours.intra and ours.remittance and ours.intra_remittance
    closed_at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    head = {"clr_date": clr_date, "closed_at": closed_at, "prev_head_sha256": GENESIS}
    assert canonical_bytes(head_document(figures=ours, **head)) == canonical_bytes(
        head_document(figures=ref, **head)
    )


def test_closed_head_signs_the_reference_figures():
    clr_date = open_cycle_date() - dt.timedelta(days=1)
    _load(clr_date, 3000, seed=7)
    ref = reference_figures(clr_date)
    cycle = cycle_close(clr_date=clr_date, actor="test")
    expected = head_document(
        clr_date=clr_date, closed_at=cycle.closed_at, figures=ref, prev_head_sha256=GENESIS
    )
    assert bytes(cycle.head.canonical) == canonical_bytes(expected)
    assert bytes(cycle.head.block_hashes) == b"".join(ref.block_hashes)
    assert cycle.head.merkle_root == ref.merkle_root.hex()


@pytest.mark.parametrize("bad_at", [0, 2500])
def test_a_stored_leaf_hash_not_32_bytes_is_refused(bad_at, monkeypatch):
    monkeypatch.setattr(fig, "LEAF_CHUNK", 1000)
    monkeypatch.setattr(fig, "READ_AHEAD_AFTER", 1)
    clr_date = open_cycle_date()
    _load(clr_date, 2600, seed=3)
    item = ClearingItem.objects.filter(clr_date=clr_date).order_by(fig.setl_id_order())[bad_at]
    ClearingItem.objects.filter(pk=item.pk).update(leaf_hash=bytes(item.leaf_hash)[:31])
    with pytest.raises(ValueError, match="not 32 bytes"):
        fig.cycle_figures(clr_date)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_groups_from_a_second_connection_when_the_items_are_committed(monkeypatch):
    """Committed items: the aggregate on the second connection is used (no recomputation)."""
    monkeypatch.setattr(fig, "LEAF_CHUNK", 1000)
    monkeypatch.setattr(fig, "READ_AHEAD_AFTER", 1)
    calls = []
    real = fig.item_groups
    monkeypatch.setattr(fig, "item_groups", lambda d, scheme="medical": calls.append(d) or real(d, scheme))
    clr_date = open_cycle_date()
    _load(clr_date, 2600, seed=11)
    ours = fig.cycle_figures(clr_date)
    assert len(calls) == 1  # the second connection's, not recomputed here
    assert repr(ours) == repr(reference_figures(clr_date))


@pytest.mark.postgres
def test_uncommitted_items_are_grouped_on_the_close_connection(monkeypatch):
    """Items the second connection cannot see: the groups are computed again, right."""
    calls = []
    real = fig.item_groups
    monkeypatch.setattr(fig, "item_groups", lambda d, scheme="medical": calls.append(d) or real(d, scheme))
    clr_date = open_cycle_date()
    _load(clr_date, 500, seed=12)
    ours = fig.cycle_figures(clr_date)
    assert len(calls) == 2
    assert ours.netting.item_cnt + sum(c for c, _ in ours.intra.values()) == 500
    assert repr(ours) == repr(reference_figures(clr_date))


@pytest.mark.parametrize("block", [0, 1, 4, 64, 1024])
def test_extend_in_any_chunking_equals_add_one_at_a_time(block, monkeypatch):
    """``StreamingRoot.extend`` = ``add`` per leaf: size, root and block hashes, for tree sizes
    around powers of two and chunkings that cross the runs and blocks at odd places."""
    monkeypatch.setattr(merkle, "RUN", 16)
    rng = random.Random(block)
    for n in [0, 1, 2, 3, 15, 16, 17, 63, 64, 65, 1023, 1024, 1025, 2100]:
        leaves = [merkle.hash_leaf(f"{n}-{i}".encode()) for i in range(n)]
        one = merkle.StreamingRoot(block=block)
        for h in leaves:
            one.add(h)
        many, pos = merkle.StreamingRoot(block=block), 0
        while pos < n:
            k = rng.choice([1, 2, 5, 16, 33, rng.randrange(1, 300)])
            many.extend(b"".join(leaves[pos : pos + k]))
            pos += k
        assert (many.size, many.root(), many.block_hashes()) == (one.size, one.root(), one.block_hashes())
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.StreamingRoot().extend(b"\x00" * 33)


@pytest.mark.postgres
def test_a_table_lock_held_by_the_caller_does_not_hang_the_close(monkeypatch):
    """The second connection gives up on a lock the closing transaction holds; the groups are
    then computed on the close's own connection."""
    from django.db import connection

    monkeypatch.setattr(fig, "BESIDE_LOCK_TIMEOUT", "200ms")
    clr_date = open_cycle_date()
    _load(clr_date, 300, seed=13)
    with connection.cursor() as cur:
        cur.execute("LOCK TABLE clearing_clearingitem IN ACCESS EXCLUSIVE MODE")
    ours = fig.cycle_figures(clr_date)
    assert ours.tree_size == 300
    assert repr(ours) == repr(reference_figures(clr_date))
