"""Card reference data (spec/cards.md, spec/operations.md ``import_reference``): acceptors
(``acceptors.csv``), same-city benefit rules (``card_benefits.csv``, ``POST /card-benefits``),
card settlement accounts and agents (``card_prefunds.csv``), and acceptor clients.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.services._rows import RowError, choice, date, text
from cards.models import Acceptor, AcceptorClient, CardBenefit, CardSettlementAgent
from cards.services.registry import ADMDVS_RE, in_region
from clearing.models import Scheme
from clearing.services.prefunds import prefunds_import
from core.audit import audit_principal
from core.crypto import encrypt
from core.errors import DomainError
from core.imports import ImportResult
from core.money import parse_ratio

SECRET_BYTES = 32


def _region_code(row: dict[str, str], field: str, province: str | None) -> str:
    value = text(row, field, max_length=6)
    if not ADMDVS_RE.match(value) or not in_region(value):
        raise RowError(field, "invalid_admdvs")
    if province is not None and value[:2] != province[:2]:
        raise RowError(field, "wrong_province")
    return value


def acceptors_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Upsert ``acceptors.csv`` rows ``{acceptor_code, acceptor_name, kind, admdvs}``."""
    result = ImportResult()
    for i, row in enumerate(rows, start=1):
        result.received += 1
        try:
            code = text(row, "acceptor_code", max_length=30)
            values = {
                "name": text(row, "acceptor_name", max_length=200),
                "kind": choice(row, "kind", tuple(Acceptor.Kind.values)),
                "admdvs": _region_code(row, "admdvs", province),
            }
        except RowError as e:
            result.reject(i, e.field, e.code)
            continue
        with transaction.atomic():
            found = Acceptor.objects.filter(acceptor_code=code).first()
            if found is None:
                Acceptor.objects.create(acceptor_code=code, **values)
                result.created += 1
            elif any(getattr(found, k) != v for k, v in values.items()):
                Acceptor.objects.filter(pk=found.pk).update(**values)
                result.updated += 1
            else:
                result.unchanged += 1
    if result.created or result.updated:
        audit_principal(
            principal,
            "acceptors_import",
            "acceptor_upload",
            province or "all",
            {"created": result.created, "updated": result.updated},
        )
    return result


def _benefit_values(row: dict[str, str], province: str | None) -> dict[str, Any]:
    ages = {}
    for field in ("min_age", "max_age"):
        raw = text(row, field, required=False, max_length=3)
        if raw and not raw.isdigit():
            raise RowError(field, "invalid")
        ages[field] = int(raw) if raw else None
    try:
        prop = parse_ratio(text(row, "pay_prop", max_length=10))
    except ValueError:
        raise RowError("pay_prop", "invalid") from None
    if not Decimal(0) <= prop <= Decimal(1):
        raise RowError("pay_prop", "invalid")
    return {
        "admdvs": _region_code(row, "admdvs", province),
        "svc_type": choice(row, "svc_type", ("transit_fare", "admission", "loan")),
        **ages,
        "benefit_code": text(row, "benefit_code", max_length=40),
        "pay_prop": prop,
        "begndate": date(row, "begndate"),
        "enddate": date(row, "enddate", required=False),
    }


def _overlaps(v: dict[str, Any]) -> bool:
    """Another rule of the same region and ``svc_type`` whose age band and dates overlap."""
    lo, hi = v["min_age"] or 0, v["max_age"] if v["max_age"] is not None else 999
    end = v["enddate"] or dt.date.max
    qs = CardBenefit.objects.filter(admdvs=v["admdvs"], svc_type=v["svc_type"]).exclude(
        min_age=v["min_age"], max_age=v["max_age"], begndate=v["begndate"]
    )
    qs = qs.filter(Q(enddate__isnull=True) | Q(enddate__gte=v["begndate"]), begndate__lte=end)
    return any((r.min_age or 0) <= hi and lo <= (r.max_age if r.max_age is not None else 999) for r in qs)


def benefits_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """``card_benefits.csv`` rows of the card bureau's province, versioned by dates; a rule that
    overlaps another for the same region, ``svc_type`` and age band → ``overlapping_benefit``."""
    result = ImportResult()
    for i, row in enumerate(rows, start=1):
        result.received += 1
        try:
            v = _benefit_values(row, province)
            if _overlaps(v):
                raise RowError("begndate", "overlapping_benefit")
        except RowError as e:
            result.reject(i, e.field, e.code)
            continue
        key = {k: v[k] for k in ("admdvs", "svc_type", "min_age", "max_age", "begndate")}
        with transaction.atomic():
            found = CardBenefit.objects.filter(**key).first()
            rest = {k: v[k] for k in ("benefit_code", "pay_prop", "enddate")}
            if found is None:
                CardBenefit.objects.create(**key, **rest)
                result.created += 1
            elif any(getattr(found, k) != val for k, val in rest.items()):
                CardBenefit.objects.filter(pk=found.pk).update(**rest)
                result.updated += 1
            else:
                result.unchanged += 1
    if result.created or result.updated:
        audit_principal(
            principal,
            "card_benefits_import",
            "card_benefit",
            province or "all",
            {"created": result.created, "updated": result.updated},
        )
    return result


def card_prefunds_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """``card_prefunds.csv``: the card settlement accounts (baseline, opening balance posted once,
    as ``prefunds.csv`` for the medical scheme) and each province's ``settlement_agent``."""
    result = prefunds_import(rows=rows, province=province, principal=principal, scheme=Scheme.CARD)
    bad = {r["row"] for r in result.rejected}
    for i, row in enumerate(rows, start=1):
        agent = (row.get("settlement_agent") or "").strip()[:200]
        if i not in bad and agent:
            CardSettlementAgent.objects.update_or_create(
                admdvs=row["admdvs"].strip(), defaults={"name": agent}
            )
    return result


def acceptor_client_create(*, acceptor_code: str, principal: Any = None) -> tuple[AcceptorClient, str]:
    """A new signed-request client of the acceptor; returns it and its secret (shown once)."""
    acceptor = Acceptor.objects.filter(acceptor_code=acceptor_code).first()
    if acceptor is None:
        raise DomainError(
            "unknown_acceptor", f"No acceptor {acceptor_code}.", status=404, field="acceptor_code"
        )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        client = AcceptorClient.objects.create(
            client_id=f"{acceptor_code}-{secrets.token_hex(8)}", acceptor=acceptor, secret_enc=encrypt(secret)
        )
        audit_principal(
            principal,
            "client_create",
            "acceptor_client",
            client.client_id,
            detail={"acceptor_code": acceptor_code},
        )
    return client, secret
