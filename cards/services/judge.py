"""Check steps 3–9 of an acceptance record (spec/cards.md §Check order) against a
:class:`Snapshot` loaded once per batch. Set-based: whatever the batch size, one query reads the
named cards with their whole status history (a join, as plain values: no model objects), one the
list versions named, one the benefit rules of the acceptor's pooling region. The first failing
check answers; nothing here writes.

The status at ``used_at`` comes from the history, not from today's status (step 8): the last move
at or before ``used_at``; a temporary loss counts as lapsed from its expiry even before the lapse
job wrote its row; a listing's start is the first move of the current uninterrupted run of listed
statuses (a change of reason does not move it).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from accounts.regions import pooling_region
from cards.models import LISTED, Acceptor, Card, CardBenefit, CardStatus, DenyListVersion
from cards.requests import AcceptanceRequest
from cards.services.registry import card_no_index, card_ref_of
from cards.services.status import temp_loss_ttl
from core.bulk import values_in
from core.errors import DomainError

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
KIND_SERVICES: dict[str, tuple[str, ...]] = {
    Acceptor.Kind.TRANSIT: ("transit_fare",),
    Acceptor.Kind.SCENIC: ("admission",),
    Acceptor.Kind.MUSEUM: ("admission",),
    Acceptor.Kind.LIBRARY: ("loan",),
}
ONE = Decimal("1")
CENT = Decimal("0.01")
LIST_AHEAD = dt.timedelta(seconds=300)  # step 5: a list issued this long after use is impossible
INACTIVE = (CardStatus.APPLIED, CardStatus.ISSUED)


@dataclass(frozen=True, slots=True)
class Move:
    """One history row: the status moved to at ``at`` and the list version issued with it."""

    at: dt.datetime
    to_stas: str
    list_version: int | None


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What the checks read of a card (no personal data: the blind index found it)."""

    id: int
    card_ref: str | None
    card_gen: str
    issuer_admdvs: str
    issuer_province: str
    birth_date: dt.date
    valid_until: dt.date | None
    card_stas: str
    moves: tuple[Move, ...]  # ordered by (at, id)
    times: tuple[dt.datetime, ...]  # the moves' ``at``, for bisection


@dataclass(frozen=True, slots=True)
class Verdict:
    """An accepted record's derived fields."""

    card: CardFacts
    benefit_code: str
    pay_prop: Decimal
    late_listing: bool


CARD_COLUMNS = (
    "id",
    "card_no_bidx",
    "card_ref",
    "card_gen",
    "issuer_admdvs",
    "issuer_province",
    "birth_date",
    "valid_until",
    "card_stas",
    "history__at",
    "history__to_stas",
    "history__list_version",
)


@dataclass
class Snapshot:
    """What a batch's checks read: cards by ``card_no`` blind index with their history, the
    ``issued_at`` of the list versions named, the latest version, the benefit rules of the
    acceptor's pooling region, and per-batch constants."""

    acceptor: Acceptor
    now: dt.datetime
    latest: DenyListVersion
    cards: dict[str, CardFacts] = field(default_factory=dict)
    bidx: dict[str, str] = field(default_factory=dict)  # card_no → blind index
    versions: dict[int, dt.datetime] = field(default_factory=dict)
    benefits: list[CardBenefit] = field(default_factory=list)
    ttl: dict[str, dt.timedelta] = field(default_factory=dict)  # issuer province → temp_loss_ttl
    oldest: dt.datetime = dt.datetime.min.replace(tzinfo=dt.UTC)  # step 3: used_at before → closed
    stale: dt.timedelta = dt.timedelta(hours=24)  # step 8: DENY_LIST_MAX_AGE

    @classmethod
    def load(
        cls, acceptor: Acceptor, reqs: list[AcceptanceRequest], *, now: dt.datetime, latest: DenyListVersion
    ) -> Snapshot:
        snap = cls(acceptor=acceptor, now=now, latest=latest)
        snap.oldest = now - dt.timedelta(seconds=int(getattr(settings, "ACCEPTANCE_MAX_AGE", 7 * 86400)))
        snap.stale = dt.timedelta(seconds=int(getattr(settings, "DENY_LIST_MAX_AGE", 24 * 3600)))
        snap.bidx = {no: card_no_index(no) for no in {r.card_no for r in reqs}}
        cards = Card.objects.order_by("id", "history__at", "history__id")
        rows = values_in(cards, CARD_COLUMNS, "card_no_bidx", set(snap.bidx.values()))
        grouped: dict[int, tuple[tuple, list[Move]]] = {}
        for row in rows:
            head, moves = grouped.setdefault(row[0], (row[:9], []))
            if row[9] is not None:
                moves.append(Move(at=row[9], to_stas=row[10], list_version=row[11]))
        wanted = {r.list_version for r in reqs if r.list_version is not None}
        for head, moves in grouped.values():
            snap.cards[head[1]] = CardFacts(
                id=head[0],
                card_ref=head[2],
                card_gen=head[3],
                issuer_admdvs=head[4],
                issuer_province=head[5],
                birth_date=head[6],
                valid_until=head[7],
                card_stas=head[8],
                moves=tuple(moves),
                times=tuple(m.at for m in moves),
            )
            wanted.update(m.list_version for m in moves if m.list_version)
        snap.versions = dict(
            DenyListVersion.objects.filter(version__in=wanted).values_list("version", "issued_at")
        )
        snap.benefits = list(CardBenefit.objects.filter(admdvs=pooling_region(acceptor.admdvs)))
        snap.ttl = {p: temp_loss_ttl(p) for p in {c.issuer_province for c in snap.cards.values()}}
        return snap

    def card(self, card_no: str) -> CardFacts | None:
        return self.cards.get(self.bidx.get(card_no) or card_no_index(card_no))


def _age(birth: dt.date, on: dt.date) -> int:
    """Full years from ``birth`` to ``on``; one born on 29 Feb turns older on 1 Mar in common years."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def benefit_for(snap: Snapshot, svc_type: str, card: CardFacts, on: dt.date) -> CardBenefit | None:
    """The same-city rule of the acceptor's pooling region for ``svc_type`` valid on ``on`` whose
    age band holds the holder's age that day (the issuer plays no part)."""
    age = _age(card.birth_date, on)
    for rule in snap.benefits:
        if rule.svc_type != svc_type or rule.begndate > on or (rule.enddate and rule.enddate < on):
            continue
        if (rule.min_age is None or age >= rule.min_age) and (rule.max_age is None or age <= rule.max_age):
            return rule
    return None


def _listing(snap: Snapshot, card: CardFacts, at: dt.datetime) -> tuple[str, Move | None]:
    """(status at ``at``, first move of the card's current uninterrupted listing or ``None``)
    from the status history. A card with no history row has today's status."""
    moves = card.moves
    if not moves:
        return card.card_stas, None
    idx = bisect_right(card.times, at) - 1
    if idx < 0:  # every move is later than ``at``: the first one is what the card was
        idx = 0
    status = moves[idx].to_stas
    if status == CardStatus.TEMP_LOST and moves[idx].at + snap.ttl[card.issuer_province] <= at:
        return CardStatus.ACTIVE, None
    if status not in LISTED or card.card_ref is None:
        return status, None
    start = idx
    while start > 0 and moves[start - 1].to_stas in LISTED:
        start -= 1
    return status, moves[start]


def judge(snap: Snapshot, req: AcceptanceRequest) -> Verdict:
    """Steps 3–9 for one record; raises the first failing check's ``DomainError``."""
    if req.used_at < snap.oldest:
        raise DomainError("upload_window_closed", "used_at is older than the upload window", field="used_at")
    if req.list_version is not None and req.list_version > snap.latest.version:
        raise DomainError(
            "unknown_version", "list_version is beyond the latest version", field="list_version"
        )
    card = snap.card(req.card_no)
    if card is None:
        raise DomainError("unknown_card", "no such card in the region's registry", field="card_no")
    if card.card_ref is not None and card.card_ref != card_ref_of(req.card_sn):
        raise DomainError("card_sn_mismatch", "card_sn does not match the card", field="card_sn")
    held = snap.versions.get(req.list_version) if req.list_version is not None else None
    if held is None and req.list_version is not None:
        raise DomainError("unknown_version", "list_version was never issued", field="list_version")
    if held is not None and held > req.used_at + LIST_AHEAD:
        raise DomainError("list_version_after_use", "the list was issued after the use", field="list_version")
    if req.svc_type not in KIND_SERVICES.get(snap.acceptor.kind, ()):
        raise DomainError(
            "service_not_allowed", f"{req.svc_type} is not a service of this acceptor", field="svc_type"
        )
    if req.svc_type == "transit_fare" and req.pay_src == "epurse" and card.card_gen == "2":
        raise DomainError(
            "no_transit_function", "a generation-2 card has no transit application", field="card_no"
        )
    status, listing = _listing(snap, card, req.used_at)
    day = req.used_at.astimezone(SHANGHAI).date()
    if status in INACTIVE:
        raise DomainError("card_not_active", "the card was not activated at used_at", field="card_no")
    if card.valid_until is not None and day > card.valid_until:
        raise DomainError("card_expired", "the card had expired at used_at", field="card_no")
    late = False
    if listing is not None:
        first = listing.list_version or 0
        if req.mode == "online" or (req.list_version or 0) >= first:
            raise DomainError(
                "card_denied",
                "the card is on the deny list",
                field="card_no",
                extra={"listed_since": listing.at.astimezone(SHANGHAI).isoformat(), "list_version": first},
            )
        if held is not None and req.used_at - held > snap.stale:
            raise DomainError(
                "stale_deny_list", "the reader's list had expired at used_at", field="list_version"
            )
        late = True
    rule = benefit_for(snap, req.svc_type, card, day) if snap.benefits else None
    prop = rule.pay_prop if rule is not None else ONE
    expected = req.list_amt if rule is None else (req.list_amt * prop).quantize(CENT, rounding=ROUND_HALF_UP)
    if expected != req.amt:
        raise DomainError(
            "benefit_mismatch",
            f"amt must be {expected:.2f} under the same-city rule",
            field="amt",
            extra={
                "expected_amt": f"{expected:.2f}",
                "benefit_code": rule.benefit_code if rule else None,
                "pay_prop": f"{prop:.4f}",
            },
        )
    return Verdict(
        card=card, benefit_code=rule.benefit_code if rule else "", pay_prop=prop, late_listing=late
    )
