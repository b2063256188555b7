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
from core.errors import Invalid, field_error
from core.money import fmt_money
from settlement.eligibility import filings_covering, is_out_of_area
from settlement.requests import Errors, credential


def person_lookup(*, institution: Institution, data: Any, principal: Any) -> dict[str, Any]:
    """``{"mdtrt_cert_type", "mdtrt_cert_no", "card_sn"}`` → the person as the desk needs it:
    ``psn_no``, ``psn_name``, masked ``certno``, ``insutype``, ``insuplc_admdvs``, ``psn_insu_stas``,
    ``balc`` (yuan string), ``filings`` covering this institution today, ``out_of_area``.
    Raises ``400 invalid``, ``422 unknown_person`` / ``unsupported_cert_type``. Audited."""
    if not isinstance(data, dict):
        raise Invalid([field_error("body", "not_an_object", "The body must be a JSON object.")])
    errs = Errors()
    cert_type, cert_no, card_sn = credential(data, errs)
    if errs.items:
        raise Invalid(errs.items)
    person = person_by_credential(cert_type=cert_type, cert_no=cert_no, card_sn=card_sn)
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
