"""The example world seen by every role (issue 7 §3, spec/security.md §Scopes).

``world`` loads ``data/examples``, settles through the API (甲 at the Shanghai hospital: payer
340000, payee 310000; 乙 at the Hangzhou hospital: payer 320000, payee 330000), closes today's
cycle, opens a dispute on 甲's item, settles once more in the next cycle (``setl_c``, reversible),
and gives a caller for every role:

- ``inst:<fixmedins_code>`` for each example institution (signed requests),
- ``bureau:payer`` (340000), ``bureau:payee`` (310000), ``bureau:other`` (440000, no business here),
- ``staff`` (clearing_staff),
- ``card:<psn_no>`` for each example person (activated login + bearer token),
- ``anon``.

``world.call(role, method, path, body)`` answers a Django test response.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.reliability.bills import INSTITUTIONS, PERSONS, bill, bill_320_at_330
from tests.signing import SignedClient

CARD_PASSWORD = "Reliability-pass-01"
PAYER, PAYEE, OTHER = "340000", "310000", "440000"
OWNER_INST = "H31010400001"
OWNER_PSN = "34010000000000000001"
_seq = itertools.count(1)


@dataclass
class World:
    callers: dict[str, Any]
    setl_a: str = ""  # 甲 at H31010400001, closed cycle, disputed
    setl_b: str = ""  # 乙 at H33010600001, closed cycle
    setl_c: str = ""  # 甲 at H31010400001, next (open) cycle, reversible
    clr_date: str = ""
    dispute_id: int = 0
    filing_id: int = 0
    key_id: str = ""
    staff_username: str = ""
    acpt_id: str = ""  # 甲's card at the Shanghai metro, card cycle open
    card_acpt_id: str = ""  # 甲's card at the Shanghai metro, card cycle of clr_date closed, disputed
    card_dispute_id: int = 0  # opened by the card bureau of 340000 (issuer), payee 310000
    list_version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def roles(self) -> list[str]:
        return list(self.callers)

    def call(
        self, role: str, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ):
        caller = self.callers[role]
        raw = (
            None
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode())
        )
        if isinstance(caller, SignedClient):
            return caller.request(
                method, path, raw=raw if raw is not None else b"", content_type=content_type
            )
        client: Client = caller["client"]
        headers = {"Authorization": f"Bearer {caller['token']}"} if caller["token"] else {}
        p, _, query = path.partition("?")
        kwargs: dict[str, Any] = {"headers": headers}
        if query:
            kwargs["QUERY_STRING"] = query
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["data"] = raw or b""
            kwargs["content_type"] = content_type
        return getattr(client, method.lower())(p, **kwargs)


def role_group(role: str) -> str:
    """The row of the expectation table a role falls in."""
    if role == f"inst:{OWNER_INST}":
        return "inst_owner"
    if role.startswith("inst:"):
        return "inst_other"
    if role == f"card:{OWNER_PSN}":
        return "card_owner"
    if role.startswith("card:"):
        return "card_other"
    if role.startswith("bureau:"):
        return "bureau_" + role.split(":")[1]
    return role  # staff, anon


def _load_support_data() -> None:
    from clearing.services.prefunds import prefunds_import
    from core.imports import rows_from_csv_bytes
    from core.principals import Principal
    from settlement.services.reference import accumulators_import
    from tests.fixtures import EXAMPLES_DIR

    system = Principal(role="clearing_staff", actor="test")
    rows = rows_from_csv_bytes((EXAMPLES_DIR / "prefunds.csv").read_bytes())
    prefunds_import(rows=rows, province=None, principal=system)
    year = str(dt.datetime.now(dt.UTC).astimezone(timezone.get_default_timezone()).year)
    rows = rows_from_csv_bytes((EXAMPLES_DIR / "accumulators.csv").read_bytes())
    accumulators_import(rows=[r | {"year": year} for r in rows], province=None, principal=None)


@pytest.fixture
def world(examples, institution_client, staff_client, settings):
    from django.contrib.auth import get_user_model

    from accounts.models import Filing
    from cardholder.services import cardholder_activate, token_issue
    from clearing.models import Dispute
    from clearing.services.close import cycle_close
    from clearing.services.disputes import dispute_open
    from core.crypto import current_signing_key
    from core.principals import Principal

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _load_support_data()
    callers: dict[str, Any] = {f"inst:{code}": institution_client(code) for code in INSTITUTIONS}
    for name, admdvs in (("payer", PAYER), ("payee", PAYEE), ("other", OTHER)):
        callers[f"bureau:{name}"] = _bearer(staff_client("bureau", admdvs).token)
    staff = staff_client("clearing_staff", "000000")
    callers["staff"] = _bearer(staff.token)
    from accounts.models import Person

    for psn_no, (certno, _name, card_no, _sn) in PERSONS.items():
        cardholder_activate(certno=certno, card_no=card_no, password=CARD_PASSWORD, address="127.0.0.9")
        callers[f"card:{psn_no}"] = _bearer(token_issue(person=Person.objects.get(psn_no=psn_no)).token)
    callers["anon"] = _bearer("")
    _card_callers(callers, staff_client)

    w = World(callers=callers)
    r = callers[f"inst:{OWNER_INST}"].post("/api/v1/settlements", bill(serial=f"G-A-{next(_seq)}", acct="1"))
    assert r.status_code == 201, r.content
    w.setl_a, w.clr_date = r.json()["setlinfo"]["setl_id"], r.json()["setlinfo"]["clr_date"]
    r = callers["inst:H33010600001"].post("/api/v1/settlements", bill_320_at_330(f"G-B-{next(_seq)}"))
    assert r.status_code == 201, r.content
    w.setl_b = r.json()["setlinfo"]["setl_id"]
    cycle_close(clr_date=dt.date.fromisoformat(w.clr_date), actor="test")
    bureau_payer = Principal(role="bureau", actor="test-payer", admdvs=PAYER)
    w.dispute_id = dispute_open(
        principal=bureau_payer, setl_id=w.setl_a, reason_code="not_covered", amount=None, note="test"
    ).pk
    assert Dispute.objects.filter(pk=w.dispute_id).exists()
    r = callers[f"inst:{OWNER_INST}"].post("/api/v1/settlements", bill(serial=f"G-C-{next(_seq)}"))
    assert r.status_code == 201, r.content
    w.setl_c = r.json()["setlinfo"]["setl_id"]
    w.filing_id = Filing.objects.get(person__psn_no=OWNER_PSN).pk
    w.key_id = current_signing_key().key_id
    _card_world(w)
    w.staff_username = staff.username
    assert get_user_model().objects.filter(username=staff.username).exists()
    return w


def _card_callers(callers: dict[str, Any], staff_client: Any) -> None:
    """spec/cards.md roles: the Shanghai metro's client, the card bureau of 340000 (issuer of 甲's
    card A34000001), a Shanghai service desk."""
    from cards.services.reference import acceptor_client_create

    client, secret = acceptor_client_create(acceptor_code="T31000000001")
    callers["acceptor"] = SignedClient(client.client_id, secret)
    callers["card_bureau"] = _bearer(staff_client("card_bureau", "340000").token)
    callers["card_desk"] = _bearer(staff_client("card_desk", "310000").token)


def _card_world(w: Any) -> None:
    """A use of 甲's card at the metro in the card cycle of ``clr_date``, closed and disputed by the
    issuer's card bureau (340000), then another use (its card cycle still open) and the list version."""
    from cards.models import Acceptor
    from cards.services.acceptances import acceptances_record
    from cards.services.denylist import latest_version
    from clearing.services.close import cycle_close
    from clearing.services.disputes import dispute_open
    from core.principals import Principal
    from tests.reliability.bills import now_iso

    def use() -> str:
        record = {"acpt_serial": f"G-W-{next(_seq)}", "card_no": "A34000001",
                  "card_sn": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41", "svc_type": "transit_fare",
                  "used_at": now_iso(), "mode": "online", "list_amt": "4.00", "amt": "4.00",
                  "pay_src": "epurse"}
        metro = Acceptor.objects.get(acceptor_code="T31000000001")
        (res,) = acceptances_record(acceptor=metro, records=[record])
        assert res.status == 201, res.error
        assert res.acceptance.clr_date.isoformat() == w.clr_date or w.card_acpt_id
        return res.acceptance.acpt_id

    w.card_acpt_id = use()
    cycle_close(clr_date=dt.date.fromisoformat(w.clr_date), actor="test", scheme="card")
    w.card_dispute_id = dispute_open(
        principal=Principal(role="card_bureau", actor="test-card-payer", admdvs="340000"),
        setl_id=w.card_acpt_id, reason_code="card_denied_missed", amount=None, note="test",
    ).pk
    w.acpt_id = use()
    w.list_version = latest_version().version


def _bearer(token: str) -> dict[str, Any]:
    return {"client": Client(), "token": token}


def new_serial(prefix: str = "G") -> str:
    return f"{prefix}-{secrets.token_hex(8)}"
