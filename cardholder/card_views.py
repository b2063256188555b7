"""The cardholder's card pages (spec/cards.md §Views; issue 13 §6): "my cards", "report lost" and
"card usage" with a receipt per cleared use, for insured persons and card-only holders alike.

Server-rendered, no JavaScript needed, strict Content-Security-Policy (``cardholder.web_urls``).
Every read and write goes through the same selectors and service as the API
(``cards.selectors.holder``, ``cards.services.moves.card_status_request``), with the signed-in
holder as the principal (``cardholder.web_auth.holder_principal``). Card numbers and ``certno`` are
shown masked only (``A34****01``, ``3401**********1234``); pages name a card by its row id, which
says nothing about the holder, and another holder's id is answered ``404``.

Pages: ``/me/cards/`` · ``/me/cards/<id>/report-lost`` (GET: confirmation; POST: the report) ·
``/me/card-usage/`` (``?from=&to=``, paginated by ``core.pagination``) ·
``/me/card-usage/<acpt_id>/receipt`` (checked here against the signed card cycle head).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.request import Request

from accounts.certno import mask_certno
from accounts.models import Region
from cardholder import card_labels as labels
from cardholder.models import CardholderLogin
from cardholder.receipts import receipt_check
from cardholder.web_auth import cardholder_page, holder_principal
from cards.models import Acceptance, Card, CardStatus
from cards.presenters import card_no_of
from cards.selectors.holder import (
    holder_card,
    holder_cards,
    holder_receipt,
    holder_usage,
    holder_use,
    usage_rows,
)
from cards.services.moves import MoveResult, card_status_request
from cards.services.registry import mask_card_no
from cards.services.status import temp_loss_ttl
from core.crypto import decrypt
from core.errors import DomainError
from core.money import fmt_money
from core.pagination import paginate
from core.replica import replica_reads

REFERENCE_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")  # as POST /api/v1/me/cards/{card_no}/temporary-loss


def _regions() -> dict[str, str]:
    return dict(Region.objects.values_list("admdvs", "name"))


def region_name(admdvs: str, regions: dict[str, str]) -> str:
    """The name of ``admdvs``, else of its prefecture (first 4 digits + ``00``), else of its
    province (``330421`` → 嘉兴市 when the county is not listed)."""
    for code in (admdvs, admdvs[:4] + "00", admdvs[:2] + "0000"):
        if code in regions:
            return regions[code]
    return ""


def _history(card: Card, regions: dict[str, str]) -> list[dict[str, Any]]:
    """The card's status history, newest first, in the holder's words: no actor ids."""
    rows = []
    for h in card.history.order_by("-at", "-id"):
        rows.append({
            "at": timezone.localtime(h.at),
            "from_label": labels.CARD_STAS.get(h.from_stas, h.from_stas) if h.from_stas else "",
            "to_label": labels.CARD_STAS.get(h.to_stas, h.to_stas),
            "to": h.to_stas,
            "who": labels.ROLE.get(h.role, ""),
            "where": region_name(h.actor_admdvs, regions) if h.actor_admdvs else "",
            "reason": labels.REASON.get(h.reason, h.reason),
        })
    return rows


def _card_view(card: Card, regions: dict[str, str]) -> dict[str, Any]:
    now = timezone.now()
    lapsed = card.card_stas == CardStatus.TEMP_LOST and card.temp_loss_expires_at is not None \
        and card.temp_loss_expires_at <= now
    return {
        "id": card.pk,
        "card_no": mask_card_no(card_no_of(card)),
        "card_stas": card.card_stas,
        "stas_label": labels.CARD_STAS.get(card.card_stas, card.card_stas),
        "issuer_admdvs": card.issuer_admdvs,
        "issuer_name": region_name(card.issuer_admdvs, regions),
        "issuer_province_name": region_name(card.issuer_province, regions),
        "card_gen": card.card_gen,
        "issue_date": card.issue_date,
        "valid_until": card.valid_until,
        "temp_loss_expires_at": (timezone.localtime(card.temp_loss_expires_at)
                                 if card.temp_loss_expires_at else None),
        "lapsed": lapsed,
        "can_report": card.card_stas == CardStatus.ACTIVE,
        "handled_name": region_name(card.handled_admdvs, regions) if card.handled_admdvs else "",
        "history": _history(card, regions),
    }


@cardholder_page
@replica_reads  # a status just moved is read on the primary after a redirect (core/replica.py)
def my_cards(request: HttpRequest, holder: CardholderLogin) -> HttpResponse:
    """"My cards": each card's masked number, status, issuing region and province, validity, a
    temporary loss's lapse time, history; "report lost" on ``active`` cards."""
    principal = holder_principal(holder)
    regions = _regions()
    cards = list(holder_cards(principal))
    newest = cards[-1] if cards else None
    context = {
        "holder": holder,
        "psn_name": (decrypt(newest.psn_name_enc) or "") if newest else "",
        "certno": mask_certno(decrypt(newest.certno_enc) or "") if newest else "",
        "cards": [_card_view(c, regions) for c in reversed(cards)],
    }
    return render(request, "cardholder/cards.html", context)


def _error_text(exc: DomainError) -> str:
    return str(labels.ERROR_TEXT.get(exc.code, exc.detail))


def _report_message(request: HttpRequest, res: MoveResult) -> None:
    """The outcome of a report on the next page: reported now (with the deny-list version that
    carries it and the lapse time), or already reported (nothing changed)."""
    expires = res.card.temp_loss_expires_at
    values = {"card": mask_card_no(card_no_of(res.card)), "version": res.list_version,
              "until": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M") if expires else ""}
    if res.changed:
        messages.success(request, _("Card %(card)s is reported lost: it is refused everywhere in the region "
                                    "from now on (deny list version %(version)s). The report lapses at "
                                    "%(until)s.") % values)
    else:
        messages.info(request, _("Card %(card)s was already reported lost; nothing changed. The report "
                                 "lapses at %(until)s.") % values)


@cardholder_page
@require_http_methods(["GET", "POST"])
def report_lost(request: HttpRequest, holder: CardholderLogin, card_id: int) -> HttpResponse:
    """GET: the confirmation step (what a temporary loss does, until when) with a fresh
    ``reference``; POST (CSRF-protected): the report through ``card_status_request``, the service
    of ``POST /api/v1/me/cards/{card_no}/temporary-loss``, idempotent on the form's ``reference``
    (a second submit of the same form changes nothing and says so). Success redirects to "my
    cards" with the outcome; a refusal re-renders this page with its code and status."""
    principal = holder_principal(holder)
    try:
        card = holder_card(principal, card_id)
    except DomainError:
        return render(request, "cardholder/report_lost.html", {"holder": holder, "missing": True}, status=404)
    regions = _regions()
    context: dict[str, Any] = {"holder": holder, "card": _card_view(card, regions),
                               "ttl_days": temp_loss_ttl(card.issuer_province).days}
    status = 200
    if request.method == "POST":
        reference = request.POST.get("reference", "")
        try:
            if not REFERENCE_RE.fullmatch(reference):
                raise DomainError("invalid", "reference: 1 to 40 characters [A-Za-z0-9_-]", status=400)
            res = card_status_request(principal=principal, card_no=card_no_of(card), to="temp_lost",
                                      reason="cardholder", reference=reference, certno=None, card_sn=None)
        except DomainError as exc:
            context.update(error=_error_text(exc), error_code=exc.code)
            status = exc.status
            card.refresh_from_db()
            context["card"] = _card_view(card, regions)
        else:
            _report_message(request, res)
            return redirect("cardholder-cards")
    context["reference"] = "web-" + secrets.token_urlsafe(18)
    return render(request, "cardholder/report_lost.html", context, status=status)


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_param(request: HttpRequest, name: str) -> tuple[dt.date | None, str]:
    raw = request.GET.get(name, "")
    if not raw:
        return None, ""
    try:
        if not _DATE_RE.fullmatch(raw):
            raise ValueError
        return dt.date.fromisoformat(raw), raw
    except ValueError:
        raise DomainError("invalid", f"{name}: YYYY-MM-DD", status=400, field=name) from None


def _usage_view(row: dict[str, Any], regions: dict[str, str]) -> dict[str, Any]:
    waived = None
    if row["benefit_code"]:
        from decimal import Decimal

        waived = fmt_money(Decimal(row["list_amt"]) - Decimal(row["amt"]))
    return {
        **row,
        "used_at_local": dt.datetime.fromisoformat(row["used_at"]),
        "city_name": region_name(row["city"], regions),
        "svc_label": labels.SVC_TYPE.get(row["svc_type"], row["svc_type"]),
        "pay_label": labels.PAY_SRC.get(row["pay_src"], row["pay_src"]),
        "benefit_label": labels.BENEFIT.get(row["benefit_code"], row["benefit_code"]) if waived else "",
        "waived": waived,
        "refund": row["kind"] == Acceptance.Kind.REVERSAL,
    }


@cardholder_page
@require_GET
@replica_reads  # history: lag-tolerant (core/replica.py)
def card_usage(request: HttpRequest, holder: CardholderLogin) -> HttpResponse:
    """"Card usage": uses and refunds of the holder's cards, newest first, ``?from=&to=`` (dates of
    use), one page of ``core.pagination`` (keyset links): acceptor and city, service, list price,
    same-city benefit and the amount it waived, amount paid, how, clearing state and a receipt link
    per cleared use."""
    principal = holder_principal(holder)
    context: dict[str, Any] = {"holder": holder, "from": request.GET.get("from", ""),
                               "to": request.GET.get("to", "")}
    try:
        date_from, context["from"] = _date_param(request, "from")
        date_to, context["to"] = _date_param(request, "to")
        page = paginate(Request(request), holder_usage(principal, date_from=date_from, date_to=date_to))
    except DomainError as exc:
        context.update(error=_error_text(exc), error_code=exc.code, rows=[], count=0)
        return render(request, "cardholder/usage.html", context, status=exc.status)
    regions = _regions()
    context.update(rows=[_usage_view(r, regions) for r in usage_rows(page["results"])], count=page["count"],
                   next=page["next"], previous=page["previous"])
    return render(request, "cardholder/usage.html", context)


@cardholder_page
@require_GET
@replica_reads  # 404/409 from a lagging replica are asked again on the primary
def card_receipt(request: HttpRequest, holder: CardholderLogin, acpt_id: str) -> HttpResponse:
    """A cleared use's receipt (inclusion proof + signed card cycle head), checked here as the
    medical receipts are (:func:`cardholder.receipts.receipt_check`): the leaf must name this use's
    ``acpt_id``, ``acceptor_code``, ``clr_amt``, ``clr_date``, payer and payee in the card scheme.
    Verified, failed, not yet cleared (409) or not found (404: another's, unknown, free use)."""
    principal = holder_principal(holder)
    try:
        use = holder_use(principal, acpt_id)
    except DomainError:
        missing = {"holder": holder, "missing": True}
        return render(request, "cardholder/card_receipt.html", missing, status=404)
    regions = _regions()
    row = _usage_view(usage_rows([use])[0], regions)
    context: dict[str, Any] = {"holder": holder, "use": row}
    if not use.cleared:
        return render(request, "cardholder/card_receipt.html", {**context, "free": True}, status=404)
    try:
        proof = holder_receipt(principal, acpt_id)
    except DomainError as exc:
        if exc.code != "not_yet_cleared":
            raise
        return render(request, "cardholder/card_receipt.html", {**context, "not_cleared": True}, status=409)
    expected = {"scheme": "card", "acpt_id": use.acpt_id, "acceptor_code": use.acceptor.acceptor_code,
                "clr_amt": fmt_money(use.amt) or "", "clr_date": use.clr_date.isoformat(), "kind": use.kind,
                "payer": use.payer, "payee": use.payee}
    check = receipt_check(proof, expected)
    context.update({
        "check": check, "proof": proof, "steps": [(labels.STEP[k], v) for k, v in check.steps.items()],
        "proof_json": json.dumps(proof, ensure_ascii=False, indent=2),
    })
    return render(request, "cardholder/card_receipt.html", context)
