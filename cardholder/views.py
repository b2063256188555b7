"""Cardholder web pages (spec/cardholder-api.md, last paragraph): sign in, activation, records with
the split of each bill, accumulator bars and a receipt checked server-side. Server-rendered Django
templates, local static files; every page works without JavaScript.

Pages: ``/`` sign in · ``/activate`` · ``/me/`` records and accumulators (``?year=``) ·
``/me/receipts/<setl_id>`` verified receipt · ``/signout`` (POST). The card pages ("my cards",
"report lost", "card usage") are in :mod:`cardholder.card_views`. A card-only holder (no medical
person) signs in here too and lands on "my cards"; the medical pages send it there.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Region
from cardholder import labels, selectors, services
from cardholder.models import CardholderLogin
from cardholder.receipts import receipt_check
from cardholder.web_auth import cardholder_page, session_holder, session_sign_in, session_sign_out
from core.errors import DomainError
from core.money import fmt_money
from core.replica import replica_reads


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _error_text(exc: DomainError) -> str:
    if exc.code == "too_many_attempts":
        minutes = max(1, (int(exc.headers.get("Retry-After", "60")) + 59) // 60)
        return _("Too many attempts; try again in about %(minutes)d minutes.") % {"minutes": minutes}
    return str(labels.ERROR_TEXT.get(exc.code, exc.detail))


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """Sign-in form (certno + password) of insured persons and card-only holders alike: the same
    service and lockouts as ``POST /api/v1/cardholder/token``."""
    holder = session_holder(request)
    if holder is not None:
        return redirect(_home(holder))
    error, certno, status = "", "", 200
    if request.method == "POST":
        certno = request.POST.get("certno", "")
        try:
            login = services.cardholder_authenticate(
                certno=certno, password=request.POST.get("password", ""), address=_address(request),
                channel="web")
        except DomainError as exc:
            # a form page answers 400 rather than 401 (which would need a WWW-Authenticate challenge)
            error, status = _error_text(exc), 400 if exc.status == 401 else exc.status
        else:
            session_sign_in(request, login)
            return redirect(_home(login))
    return render(request, "cardholder/signin.html", {"error": error, "certno": certno}, status=status)


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    """Activation form (certno, card number, password twice)."""
    error, done, status = "", False, 200
    if request.method == "POST":
        password = request.POST.get("password", "")
        if password != request.POST.get("password2", ""):
            error, status = _("The passwords differ."), 400
        else:
            try:
                services.cardholder_activate(certno=request.POST.get("certno", ""),
                                             card_no=request.POST.get("card_no", ""), password=password,
                                             address=_address(request), channel="web")
                done = True
            except DomainError as exc:
                error, status = _error_text(exc), exc.status
    return render(request, "cardholder/activate.html", {"error": error, "done": done}, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    session_sign_out(request)
    return redirect("cardholder-signin")


def _home(holder: CardholderLogin) -> str:
    """Where a holder lands: the medical records, or "my cards" for a card-only holder."""
    return "cardholder-records" if holder.person is not None else "cardholder-cards"


def _bar(used: Decimal | None, limit: Decimal | None) -> int | None:
    """Percent of ``limit`` used (0–100); ``None`` (no bar) without a limit or with a limit of 0.00,
    where there is nothing to fill (a 0.00/0.00 bar drawn full read as "limit reached")."""
    if limit is None or used is None or limit <= 0:
        return None
    return int(min(Decimal(100), used * 100 / limit))


@cardholder_page
@replica_reads  # history: lag-tolerant (core/replica.py)
def records(request: HttpRequest, holder: CardholderLogin) -> HttpResponse:
    """Profile, accumulators as bars and the records of a year with the split of each bill."""
    person = holder.person
    if person is None:
        return redirect("cardholder-cards")
    this_year = selectors.today_shanghai().year
    raw_year = request.GET.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 1900 <= int(raw_year) <= 2999 else this_year
    profile = selectors.person_profile(person=person)
    rows = selectors.person_records(person=person, year=year)
    regions = dict(Region.objects.values_list("admdvs", "name"))
    for row in rows:
        area = row["mdtrtarea_admvs"]
        row["region_name"] = regions.get(area) or regions.get(area[:2] + "0000", "")
        row["med_type_label"] = labels.MED_TYPE.get(row["med_type"], row["med_type"])
        row["status_label"] = labels.STATUS.get(row["status"], row["status"])
        row["split"] = [(labels.SPLIT[f], f, fmt_money(row[f]) if f != "pool_prop_selfpay" else str(row[f]))
                        for f in labels.SPLIT]
    accs = [
        {"view": a, "group_label": labels.GROUP.get(a.med_type_group, a.med_type_group),
         "insutype_label": labels.INSUTYPE.get(a.insutype, a.insutype),
         "dedc_pct": _bar(a.deductible_used, a.deductible), "cap_pct": _bar(a.fund_paid, a.annual_cap)}
        for a in selectors.person_accumulator_views(person=person, year=year)
    ]
    for f in profile["filings"]:
        f["type_label"] = labels.FILING_TYPE.get(f["filing_type"], f["filing_type"])
        f["region_name"] = regions.get(f["mdtrtarea_admvs"], "")
    context = {
        "holder": holder, "profile": profile, "records": rows, "accumulators": accs, "year": year,
        "years": list(range(this_year, this_year - 5, -1)),
        "insutype_label": labels.INSUTYPE.get(profile["insutype"], profile["insutype"]),
        "insuplc_name": regions.get(profile["insuplc_admdvs"], ""),
    }
    return render(request, "cardholder/records.html", context)


def _expected_leaf(record: dict[str, Any]) -> dict[str, str]:
    """The leaf fields a medical record's receipt must name: ``setl_id``, ``clr_amt``,
    ``clr_date``, ``fixmedins_code``."""
    return {"setl_id": record["setl_id"], "clr_amt": fmt_money(record["clr_amt"]) or "",
            "clr_date": record["clr_date"].isoformat(), "fixmedins_code": record["fixmedins_code"]}


@cardholder_page
@replica_reads  # 404/409 from a lagging replica are asked again on the primary
def receipt(request: HttpRequest, holder: CardholderLogin, setl_id: str) -> HttpResponse:
    """The record's receipt, checked here with an RFC 9162 verifier and the Ed25519 head
    signature: 已验证 verified, 验证失败 failed, or 尚未清算 not yet cleared (409)."""
    person = holder.person
    try:
        record = selectors.person_record(person=person, setl_id=setl_id)
    except DomainError:
        return render(request, "cardholder/receipt.html", {"holder": holder, "missing": True}, status=404)
    context: dict[str, Any] = {"holder": holder, "record": record, "clr_amt": fmt_money(record["clr_amt"])}
    try:
        proof = selectors.person_receipt(person=person, setl_id=setl_id)
    except DomainError as exc:
        if exc.code != "not_yet_cleared":
            raise
        context["not_cleared"] = True
        return render(request, "cardholder/receipt.html", context, status=409)
    check = receipt_check(proof, _expected_leaf(record))
    context.update({
        "check": check, "proof": proof, "steps": [(labels.STEP[k], v) for k, v in check.steps.items()],
        "proof_json": json.dumps(proof, ensure_ascii=False, indent=2),
    })
    return render(request, "cardholder/receipt.html", context)
