"""Check steps 3–9 of an acceptance record (spec/cards.md §Check order) against a
:class:`Snapshot` loaded once per batch (set-based: one query per table, whatever the batch size).
The first failing check answers; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from accounts.regions import pooling_region
from cards.models import LISTED, Acceptor, Card, CardBenefit, CardStatus, CardStatusChange, DenyListVersion
from cards.requests import AcceptanceRequest
from cards.services.registry import card_no_index, card_ref_of
from cards.services.status import temp_loss_ttl
from core.errors import DomainError

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
KIND_SERVICES = {
    Acceptor.Kind.TRANSIT: ("transit_fare",),
    Acceptor.Kind.SCENIC: ("admission",),
    Acceptor.Kind.MUSEUM: ("admission",),
    Acceptor.Kind.LIBRARY: ("loan",),
}
ONE = Decimal("1")


@dataclass(frozen=True)
class Verdict:
    """An accepted record's derived fields."""

    card: Card
    benefit_code: str
    pay_prop: Decimal
    late_listing: bool


@dataclass
class Snapshot:
    """What a batch's checks read: cards by ``card_no`` blind index, their status history, the
    list versions named, the latest version, the benefit rules of the acceptor's region."""

    acceptor: Acceptor
    now: dt.datetime
    latest: DenyListVersion
    cards: dict[str, Card] = field(default_factory=dict)
    history: dict[int, list[CardStatusChange]] = field(default_factory=dict)
    versions: dict[int, dt.datetime] = field(default_factory=dict)
    benefits: list[CardBenefit] = field(default_factory=list)

    @classmethod
    def load(
        cls, acceptor: Acceptor, reqs: list[AcceptanceRequest], *, now: dt.datetime, latest: DenyListVersion
    ) -> Snapshot:
        snap = cls(acceptor=acceptor, now=now, latest=latest)
        bidx = {card_no_index(r.card_no) for r in reqs}
        for card in Card.objects.filter(card_no_bidx__in=bidx):
            snap.cards[card.card_no_bidx] = card
        ids = [c.pk for c in snap.cards.values()]
        for row in CardStatusChange.objects.filter(card_id__in=ids).order_by("at", "id"):
            snap.history.setdefault(row.card_id, []).append(row)
        wanted = {r.list_version for r in reqs if r.list_version is not None}
        wanted |= {row.list_version for rows in snap.history.values() for row in rows if row.list_version}
        snap.versions = dict(
            DenyListVersion.objects.filter(version__in=wanted).values_list("version", "issued_at")
        )
        snap.benefits = list(CardBenefit.objects.filter(admdvs=pooling_region(acceptor.admdvs)))
        return snap


def _age(birth: dt.date, on: dt.date) -> int:
    """Full years from ``birth`` to ``on``; one born on 29 Feb turns older on 1 Mar in common years."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def benefit_for(snap: Snapshot, svc_type: str, card: Card, on: dt.date) -> CardBenefit | None:
    """The same-city rule of the acceptor's pooling region for ``svc_type`` valid on ``on`` whose
    age band holds the holder's age that day (the issuer plays no part)."""
    age = _age(card.birth_date, on)
    for rule in snap.benefits:
        if rule.svc_type != svc_type or rule.begndate > on or (rule.enddate and rule.enddate < on):
            continue
        if (rule.min_age is None or age >= rule.min_age) and (rule.max_age is None or age <= rule.max_age):
            return rule
    return None


def _listing(snap: Snapshot, card: Card, at: dt.datetime) -> tuple[str, CardStatusChange | None]:
    """(status at ``at``, first history row of the card's current uninterrupted listing or
    ``None``) from the status history, not today's status. A temporary loss counts as lapsed from
    its ``temp_loss_expires_at`` even before the lapse job has written its row."""
    rows = snap.history.get(card.pk, [])
    idx = max((i for i, r in enumerate(rows) if r.at <= at), default=0 if rows else -1)
    if idx < 0:
        return card.card_stas, None
    status = rows[idx].to_stas
    if status == CardStatus.TEMP_LOST and rows[idx].at + temp_loss_ttl(card.issuer_province) <= at:
        return CardStatus.ACTIVE, None
    if status not in LISTED or card.card_ref is None:
        return status, None
    start = idx
    while start > 0 and rows[start - 1].to_stas in LISTED:
        start -= 1
    return status, rows[start]


def judge(snap: Snapshot, req: AcceptanceRequest) -> Verdict:
    """Steps 3–9 for one record; raises the first failing check's ``DomainError``."""
    max_age = dt.timedelta(seconds=int(getattr(settings, "ACCEPTANCE_MAX_AGE", 7 * 86400)))
    if req.used_at < snap.now - max_age:
        raise DomainError("upload_window_closed", "used_at is older than the upload window", field="used_at")
    if req.list_version is not None and req.list_version > snap.latest.version:
        raise DomainError(
            "unknown_version", "list_version is beyond the latest version", field="list_version"
        )
    card = snap.cards.get(card_no_index(req.card_no))
    if card is None:
        raise DomainError("unknown_card", "no such card in the region's registry", field="card_no")
    if card.card_ref is not None and card.card_ref != card_ref_of(req.card_sn):
        raise DomainError("card_sn_mismatch", "card_sn does not match the card", field="card_sn")
    held = snap.versions.get(req.list_version) if req.list_version is not None else None
    if held is None and req.list_version is not None:
        raise DomainError("unknown_version", "list_version was never issued", field="list_version")
    if held is not None and held > req.used_at + dt.timedelta(seconds=300):
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
    if status in (CardStatus.APPLIED, CardStatus.ISSUED):
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
        stale = dt.timedelta(seconds=int(getattr(settings, "DENY_LIST_MAX_AGE", 24 * 3600)))
        if req.used_at - held > stale:
            raise DomainError(
                "stale_deny_list", "the reader's list had expired at used_at", field="list_version"
            )
        late = True
    rule = benefit_for(snap, req.svc_type, card, day)
    prop = rule.pay_prop if rule is not None else ONE
    expected = (req.list_amt * prop).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
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
