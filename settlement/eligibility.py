"""Who may settle here, and on which terms (spec/policy.md §Who may settle here, §The split).

Check order after the request format (400) and line amounts (422 ``amount_mismatch``):
person by credential (``unknown_person`` / ``unsupported_cert_type``) → ``name_mismatch`` →
``insutype_mismatch`` → ``not_insured`` → ``not_out_of_area`` → filing (``no_filing``; emergencies
13/24 get a temporary ``22`` filing) → ``no_policy``. Reads only; the settle service records the
temporary filing in its transaction.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from accounts.models import Filing, Institution, Person
from accounts.regions import pooling_region, province_of
from accounts.selectors import person_by_credential, person_name
from core.errors import DomainError
from settlement.models import Policy
from settlement.requests import EMERGENCY_MED_TYPES, SettlementRequest
from settlement.services.reference_cache import ReferenceSnapshot
from settlement.split import CatalogueTerms, PolicyTerms, line_amount_matches

TEMP_EMERGENCY_FILING = "22"
TEMP_FILING_DAYS = 9


@dataclass(frozen=True)
class FilingUse:
    """The filing a settlement relies on: an existing ``filing``, or (``filing`` None,
    ``create`` True) a temporary ``22`` to record; ``None`` of this for intra-province."""

    filing: Filing | None
    filing_type: str
    temporary: bool
    create: bool
    mdtrtarea_admvs: str = ""


def check_line_amounts(req: SettlementRequest) -> None:
    """``det_item_fee_sumamt`` = round(``cnt`` × ``pric``) on every line, else ``422 amount_mismatch``
    naming the first bad line (all bad lines are listed in ``errors``)."""
    bad = [
        {
            "field": f"feedetail[{i}].det_item_fee_sumamt",
            "code": "amount_mismatch",
            "message": f"round(cnt × pric) is not {ln.amount}",
        }
        for i, ln in enumerate(req.lines)
        if not line_amount_matches(ln.cnt, ln.pric, ln.amount)
    ]
    if bad:
        raise DomainError(
            "amount_mismatch",
            "A fee line's det_item_fee_sumamt is not round(cnt × pric).",
            status=422,
            errors=bad,
        )


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def person_for_request(req: SettlementRequest) -> Person:
    """The insured person who may settle: credential, then :func:`person_checks`."""
    person = person_by_credential(cert_type=req.cert_type, cert_no=req.cert_no, card_sn=req.card_sn)
    person_checks(req, person)
    return person


def person_checks(req: SettlementRequest, person: Person, listed: dict[str, dict] | None = None) -> None:
    """The checks after the person was found by credential (``unknown_person``), in spec order:
    ``name_mismatch`` → ``insutype_mismatch`` → ``not_insured``. (A check on the credential itself,
    e.g. a denied card, goes first here.) ``listed``: the batch's :func:`cards_listed` (else one
    query for a card)."""
    if req.cert_type == "03":  # spec/cards.md: a card on the deny list is refused at desks too
        if listed is None:
            card_check(req.cert_no)
        elif req.cert_no in listed:
            raise _card_denied(listed[req.cert_no])
    if req.psn_name is not None and _nfkc(req.psn_name) != _nfkc(person_name(person)):
        raise DomainError("name_mismatch", "psn_name does not match the insured person.", field="psn_name")
    if req.insutype != person.insutype:
        raise DomainError(
            "insutype_mismatch", "The person is not insured under this insutype.", field="insutype"
        )
    if person.psn_insu_stas != Person.InsuStatus.INSURED:
        raise DomainError("not_insured", "The person's insurance is not active (psn_insu_stas is not 1).")


def card_check(card_no: str) -> None:
    """``422 card_denied`` when the social-security card ``card_no`` is on the card scheme's deny
    list now (spec/cards.md, Changes to other parts); a card not in the registry passes."""
    from django.utils import timezone

    from cards.selectors.cards import card_listing_at

    listing = card_listing_at(card_no, timezone.now())
    if listing is not None:
        raise _card_denied(listing)


def cards_listed(requests: list[SettlementRequest]) -> dict[str, dict]:
    """The deny-list listings now of the cards (``mdtrt_cert_type`` 03) of ``requests``, by
    ``cert_no``, with one query (for :func:`person_checks` over a batch)."""
    from django.utils import timezone

    from cards.selectors.cards import card_listings_at

    return card_listings_at([r.cert_no for r in requests if r.cert_type == "03"], timezone.now())


def _card_denied(listing: dict) -> DomainError:
    return DomainError("card_denied", "The card is on the deny list (reported lost or cancelled).",
                       field="mdtrt_cert_no", extra={"listed_since": listing["listed_since"]})


def is_out_of_area(person: Person, institution: Institution) -> bool:
    return pooling_region(institution.admdvs) != pooling_region(person.insuplc_admdvs)


def _areas(institution: Institution) -> set[str]:
    return {province_of(institution.admdvs), pooling_region(institution.admdvs)}


def filing_rows(person_ids: list[int], institution: Institution) -> dict[int, list[Filing]]:
    """Every unrevoked filing of the persons for the institution's province or pooling region,
    whatever its dates, by person id, newest first (``-begndate``, ``-id``): one query, e.g. for a
    batch (:func:`filings_covering` then only filters by day)."""
    out: dict[int, list[Filing]] = {}
    rows = Filing.objects.filter(
        person_id__in=person_ids, mdtrtarea_admvs__in=_areas(institution), revoked_at__isnull=True
    ).order_by("-begndate", "-id")
    for f in rows:
        out.setdefault(f.person_id, []).append(f)
    return out


def filings_covering(
    person: Person, institution: Institution, day: dt.date, rows: list[Filing] | None = None
) -> list[Filing]:
    """Unrevoked filings of ``person`` for the institution's province or pooling region covering
    ``day``; long-term ones first, then the newest. ``rows``: the person's rows of
    :func:`filing_rows` (no query then)."""
    if rows is not None:
        found = [f for f in rows if f.begndate <= day <= f.enddate]
    else:
        found = list(
            Filing.objects.filter(
                person=person,
                mdtrtarea_admvs__in=_areas(institution),
                begndate__lte=day,
                enddate__gte=day,
                revoked_at__isnull=True,
            ).order_by("-begndate", "-id")
        )
    found.sort(key=lambda f: f.temporary)
    return found


def filing_for(
    person: Person,
    institution: Institution,
    med_type: str,
    day: dt.date,
    rows: list[Filing] | None = None,
) -> FilingUse | None:
    """Out-of-area and filing checks. Returns None within a province (no filing needed).
    ``rows``: the person's rows of :func:`filing_rows`, when the caller read them already."""
    if not is_out_of_area(person, institution):
        raise DomainError("not_out_of_area", "The institution is in the person's own pooling region.")
    if province_of(institution.admdvs) == person.province:
        return None
    found = filings_covering(person, institution, day, rows)
    if found:
        f = found[0]
        return FilingUse(filing=f, filing_type=f.filing_type, temporary=f.temporary, create=False)
    if med_type in EMERGENCY_MED_TYPES:
        return FilingUse(
            filing=None,
            filing_type=TEMP_EMERGENCY_FILING,
            temporary=True,
            create=True,
            mdtrtarea_admvs=province_of(institution.admdvs),
        )
    raise DomainError("no_filing", "The person has no filing (备案) for this region on the settlement day.")


def temporary_filing(person: Person, use: FilingUse, day: dt.date) -> Filing:
    """The emergency filing ``22`` to record (unsaved; begndate = day, enddate = day + 9)."""
    return Filing(
        person=person,
        filing_type=use.filing_type,
        mdtrtarea_admvs=use.mdtrtarea_admvs,
        begndate=day,
        enddate=day + dt.timedelta(days=TEMP_FILING_DAYS),
        created_by_settlement=True,
    )


def policy_for(
    person: Person, institution: Institution, med_type_group: str, day: dt.date, reference: ReferenceSnapshot
) -> Policy:
    """The insured region's policy: ``insuplc_admdvs`` first, then its province code; the
    institution's ``hosp_lv`` ('' for pharmacies); the newest version valid on ``day``. Else
    ``422 no_policy``. ``reference`` must hold both regions (:func:`reference_regions`)."""
    for region in (person.insuplc_admdvs, person.province):
        policy = reference.policy(region, person.insutype, med_type_group, institution.hosp_lv or "", day)
        if policy is not None:
            return policy
    raise DomainError("no_policy", "No policy of the insured region applies to this settlement.")


def reference_regions(persons: list[Person]) -> set[str]:
    """The regions whose policies :func:`policy_for` may read for these persons."""
    return {p.insuplc_admdvs for p in persons} | {p.province for p in persons}


def catalogue_keys(province: str, reqs: list[SettlementRequest]) -> set[tuple[str, str]]:
    """The (treatment province, code) catalogue keys :func:`catalogue_terms` reads for ``reqs``."""
    return {(province, ln.med_list_codg) for req in reqs for ln in req.lines}


def policy_terms(policy: Policy) -> PolicyTerms:
    return PolicyTerms(
        deductible=policy.deductible,
        deductible_basis=policy.deductible_basis,
        pool_prop=policy.pool_prop,
        annual_cap=policy.annual_cap,
        temp_prop_reduction=policy.temp_prop_reduction,
    )


def catalogue_terms(
    province: str, req: SettlementRequest, reference: ReferenceSnapshot
) -> list[CatalogueTerms | None]:
    """Per line, the treatment province's catalogue row valid on the fee's Asia/Shanghai date
    (``reference`` must hold :func:`catalogue_keys` of the request)."""
    out: list[CatalogueTerms | None] = []
    for ln, day in zip(req.lines, req.fee_days(), strict=True):
        match = reference.catalogue_row(province, ln.med_list_codg, day)
        out.append(
            None
            if match is None
            else CatalogueTerms(
                chrgitm_lv=match.chrgitm_lv,
                selfpay_prop=match.selfpay_prop,
                pric_uplmt_amt=match.pric_uplmt_amt,
            )
        )
    return out
