"""Reads of the card registry."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import connection

from cards.models import Card
from cards.services.registry import card_no_index, card_ref_of
from core.errors import NotFound


def card_by_number(card_no: str) -> Card:
    """The card ``card_no`` (upper-cased) or 404."""
    card = Card.objects.filter(card_no_bidx=card_no_index(card_no.upper())).first()
    if card is None:
        raise NotFound("No such card.")
    return card


@cache
def _client_select() -> tuple[str, list[str], list[str]]:
    """The SQL of :func:`acceptor_client_for_signature` on PostgreSQL and the attnames of its two
    halves (written once per process from the models' meta)."""
    from cards.models import Acceptor, AcceptorClient

    qn = connection.ops.quote_name
    mine, theirs = AcceptorClient._meta.concrete_fields, Acceptor._meta.concrete_fields
    own, other = [f.attname for f in mine], [f.attname for f in theirs]
    cols = [f"c.{qn(f.column)}" for f in mine] + [f"a.{qn(f.column)}" for f in theirs]
    sql = (
        f"SELECT {', '.join(cols)} FROM {qn(AcceptorClient._meta.db_table)} c "  # noqa: S608 - meta
        f"JOIN {qn(Acceptor._meta.db_table)} a ON a.id = c.acceptor_id WHERE c.client_id = %s"
    )
    return sql, own, other


def acceptor_client_for_signature(client_id: str):  # noqa: ANN201 - AcceptorClient | None
    """The acceptor client ``client_id`` with its acceptor (``settings.AUTH_LOADERS``), read every
    signed request (revocation holds at once). On PostgreSQL one plain query built once per
    process: the ORM's compilation of ``select_related(...).first()`` cost more CPU than the rest
    of a deny-list fetch's own work (docs/performance.md §Cards)."""
    from cards.models import Acceptor, AcceptorClient

    if connection.vendor != "postgresql":
        return AcceptorClient.objects.select_related("acceptor").filter(client_id=client_id).first()
    sql, own, other = _client_select()
    with connection.cursor() as cur:
        cur.execute(sql, [client_id])
        row = cur.fetchone()
    if row is None:
        return None
    client = AcceptorClient.from_db(connection.alias, own, row[: len(own)])
    client.acceptor = Acceptor.from_db(connection.alias, other, row[len(own) :])
    return client


def card_listing_at(card_no: str, at: dt.datetime) -> dict[str, str | None] | None:
    """The deny-list listing of the registry card ``card_no`` in force at ``at`` (an aware
    datetime, e.g. a settlement's ``setl_time``): ``{"listed_since", "reason"}``, or ``None`` when
    the card is not in the registry or not listed (spec/cards.md "Changes to other parts": the
    medical desk refuses a listed card with ``422 card_denied`` right after ``unknown_person``).
    A temporary loss whose ``temp_loss_expires_at`` has passed counts as lapsed."""
    from cards.models import LISTED, CardStatus

    card = Card.objects.filter(card_no_bidx=card_no_index(str(card_no).strip().upper())).first()
    if card is None or card.card_ref is None or card.card_stas not in LISTED:
        return None
    lapse = card.temp_loss_expires_at
    if card.card_stas == CardStatus.TEMP_LOST and lapse is not None and lapse <= at:
        return None
    since = card.history.filter(to_stas__in=LISTED).order_by("at", "id").values_list("at", flat=True).last()
    return {"reason": card.card_stas, "listed_since": since.isoformat() if since else None}


def registry_holders(pairs: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], str | None]:
    """For the medical desk (``accounts.selectors.persons_by_credentials``, spec/cards.md "Changes
    to other parts"): of the (``card_no``, ``card_sn``) pairs of ``mdtrt_cert_type`` 03 credentials,
    those whose card is in the registry, each mapped to its holder's ``certno`` blind index when
    ``card_sn`` matches (compared upper-case, through ``card_ref``), else ``None``. One query.
    ``card_no`` is compared upper-case (the registry stores it so)."""
    by_index = {card_no_index(str(no).strip().upper()): (no, sn) for no, sn in pairs}
    cards = Card.objects.filter(card_no_bidx__in=by_index).values_list(
        "card_no_bidx", "card_ref", "certno_bidx"
    )
    found = {bidx: (ref, certno) for bidx, ref, certno in cards}
    out: dict[tuple[str, str | None], str | None] = {}
    for no, sn in pairs:
        hit = found.get(card_no_index(str(no).strip().upper()))
        if hit is None:
            continue
        ref, certno = hit
        same = bool(sn) and str(sn).isascii() and ref is not None and card_ref_of(str(sn)) == ref
        out[(no, sn)] = certno if same else None
    return out


def card_listings_at(card_nos: list[str], at: dt.datetime) -> dict[str, dict[str, str | None]]:
    """:func:`card_listing_at` for many cards with one query (the listed ones cost one more each):
    ``{card_no as given: listing}`` for the cards listed at ``at``; the others are absent."""
    from cards.models import LISTED, CardStatus

    wanted: dict[str, list[str]] = {}
    for n in card_nos:
        wanted.setdefault(card_no_index(str(n).strip().upper()), []).append(n)
    if not wanted:
        return {}
    listed = Card.objects.filter(card_no_bidx__in=list(wanted), card_stas__in=LISTED, card_ref__isnull=False)
    out: dict[str, dict[str, str | None]] = {}
    for card in listed:
        lapse = card.temp_loss_expires_at
        if card.card_stas == CardStatus.TEMP_LOST and lapse is not None and lapse <= at:
            continue
        history = card.history.filter(to_stas__in=LISTED).order_by("at", "id")
        since = history.values_list("at", flat=True).last()
        listing = {"reason": card.card_stas, "listed_since": since.isoformat() if since else None}
        out.update({n: listing for n in wanted[card.card_no_bidx]})
    return out
