"""Helpers for the clearing tests: the worked day's items (spec/clearing.md example), prefunds,
bearer clients for bureau and clearing-house staff."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from clearing.models import ClearingItem
from clearing.services.cycles import clearing_item_record
from core.imports import rows_from_csv_bytes
from core.principals import Principal
from tests.signing import BearerClient

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
SYSTEM = Principal(role="clearing_staff", actor="test")

# (label, payer, payee, clr_amt, fixmedins_code) of E1–E5, E2b, E7 (policy.md / clearing.md).
EXAMPLE_ITEMS = [
    ("E1", "340000", "310000", "2493.22", "H31010400001"),
    ("E2a", "320000", "330000", "31.78", "H33010600001"),
    ("E2b", "320000", "330000", "70.00", "H33010600001"),
    ("E3", "340000", "320000", "500.00", "H32010200001"),
    ("E4", "330000", "310000", "3000.00", "H31010400001"),
    ("E5", "310000", "340000", "71.00", "P34010400001"),
    ("E7", "320000", "320000", "20.00", "H32010200001"),
]


def record(
    payer: str,
    payee: str,
    amount: str | Decimal,
    code: str,
    *,
    kind: str = "settlement",
    setl_id: str | None = None,
    cycle=None,
) -> ClearingItem:
    from core.ids import new_setl_id

    with transaction.atomic():
        return clearing_item_record(
            setl_id=setl_id or new_setl_id({"settlement": "S", "reversal": "R"}.get(kind, "A")),
            kind=kind,
            payer=payer,
            payee=payee,
            clr_amt=Decimal(amount),
            fixmedins_code=code,
            cycle=cycle,
        )


def record_example_day() -> dict[str, ClearingItem]:
    return {label: record(payer, payee, amt, code) for label, payer, payee, amt, code in EXAMPLE_ITEMS}


def load_prefunds():
    from clearing.services.prefunds import prefunds_import

    rows = rows_from_csv_bytes((EXAMPLES / "prefunds.csv").read_bytes())
    return prefunds_import(rows=rows, province=None, principal=SYSTEM)


def staff_client(role: str, admdvs: str = "310000", username: str | None = None) -> BearerClient:
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken, StaffProfile
    from core.auth import token_hash

    user = get_user_model().objects.create_user(
        username=username or f"{role}-{admdvs}-{secrets.token_hex(3)}"
    )
    StaffProfile.objects.create(user=user, role=role, admdvs=admdvs)
    token = secrets.token_urlsafe(24)
    ApiToken.objects.create(
        user=user, token_hash=token_hash(token), expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    return BearerClient(token)
