"""Who is this patient (spec/hospital-api.md §POST /persons/lookup, like NHSA 1101)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.certno import mask_certno
from accounts.models import Institution
from accounts.selectors import person_by_credential, person_certno, person_name
from clearing.services.cycles import business_day
from core.audit import audit_principal
from core.money import fmt_money
from core.principals import Principal
from settlement.eligibility import card_check, filings_covering, is_out_of_area
from settlement.requests import LookupRequest


def person_lookup(
    *, institution: Institution, request: LookupRequest, principal: Principal
) -> dict[str, Any]:
    """A credential → the person as the desk needs it:
    ``psn_no``, ``psn_name``, masked ``certno``, ``insutype``, ``insuplc_admdvs``, ``psn_insu_stas``,
    ``balc`` (yuan string), ``filings`` covering this institution today, ``out_of_area``.
    Raises ``422 unknown_person`` / ``unsupported_cert_type``, then for a social-security card
    (``03``) on the card scheme's deny list ``422 card_denied`` (spec/cards.md, Changes to other
    parts: checked right after ``unknown_person``, so a loss report holds at hospital desks from
    the first step). Audited."""
    person = person_by_credential(
        cert_type=request.cert_type, cert_no=request.cert_no, card_sn=request.card_sn
    )
    if request.cert_type == "03":
        card_check(request.cert_no)
    today = business_day(timezone.now())
    filings = filings_covering(person, institution, today)
    with transaction.atomic():
        audit_principal(principal, "person.lookup", "person", person.psn_no)
    return {
        "psn_no": person.psn_no,
        "psn_name": person_name(person),
        "certno": mask_certno(person_certno(person)),
        "insutype": person.insutype,
        "insuplc_admdvs": person.insuplc_admdvs,
        "psn_insu_stas": person.psn_insu_stas,
        "balc": fmt_money(person.acct_balance),
        "filings": [
            {
                "filing_type": f.filing_type,
                "mdtrtarea_admvs": f.mdtrtarea_admvs,
                "begndate": f.begndate.isoformat(),
                "enddate": f.enddate.isoformat(),
            }
            for f in filings
        ],
        "out_of_area": is_out_of_area(person, institution),
    }
