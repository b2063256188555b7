"""Cardholder test helpers: fast password hashing, signed-in cardholders, the worked examples'
settle requests (spec/policy.md E1, E2a, E2b) and the close of the day."""
from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.signing import BearerClient

# data/examples/persons.csv
E1 = {"certno": "340104198001011234", "card_no": "A34000001", "psn_no": "34010000000000000001"}
E2 = {"certno": "320102197505124565", "card_no": "A32000002", "psn_no": "32010000000000000002"}
E3 = {"certno": "34010219900215321X", "card_no": "A34000003", "psn_no": "34010000000000000003"}
PASSWORD = "correct-horse-9"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """PBKDF2 at full strength would make every login take most of a second on the shared CPU."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_json(client: Client, path: str, body: dict[str, Any], **extra: Any):
    return client.post(path, json.dumps(body, ensure_ascii=False), content_type="application/json", **extra)


def activate_and_sign_in(person: dict[str, str], password: str = PASSWORD) -> BearerClient:
    """Activate ``person``'s login through the API and return a client holding a fresh token."""
    c = Client()
    resp = post_json(c, "/api/v1/cardholder/activate", {**_cred(person), "card_no": person["card_no"],
                                                          "password": password})
    assert resp.status_code == 201, resp.content
    resp = post_json(c, "/api/v1/cardholder/token", {**_cred(person), "password": password})
    assert resp.status_code == 200, resp.content
    return BearerClient(resp.json()["token"])


def _cred(person: dict[str, str]) -> dict[str, str]:
    return {"certno": person["certno"]}


@pytest.fixture
def cardholder(examples):
    """Factory: ``make(E1) -> BearerClient`` signed in as that example person."""
    return activate_and_sign_in


def _line(sn: str, code: str, cnt: str, pric: str, amount: str, at: str) -> dict[str, str]:
    return {"feedetl_sn": sn, "med_list_codg": code, "fee_ocur_time": at, "cnt": cnt, "pric": pric,
            "det_item_fee_sumamt": amount}


def settle_request(example: str) -> dict[str, Any]:
    """The settle request of worked example ``E1``, ``E2a`` or ``E2b`` (spec/policy.md), dated now."""
    at = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    begin = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    serial = f"T-{example}-{next(_serial)}-{timezone.now().timestamp():.0f}"
    if example == "E1":
        lines = [_line("1", "XA01AAA001", "10", "12.50", "125.00", at),
                 _line("2", "XB02BBB002", "4", "88.88", "355.52", at),
                 _line("3", "001201000010000", "1", "2400.00", "2400.00", at),
                 _line("4", "C0301020300000100001", "1", "680.00", "680.00", at),
                 _line("5", "002201000010000", "5", "120.00", "600.00", at)]
        return {"medins_setl_id": serial, "mdtrt_cert_type": "02", "mdtrt_cert_no": E1["certno"],
                "card_sn": None, "insutype": "310", "med_type": "21", "begntime": begin, "endtime": at,
                "acct_used_flag": "1", "feedetail": lines}
    if example == "E2a":
        lines = [_line("1", "XA01AAA001", "3", "15.80", "47.40", at),
                 _line("2", "003101000010000", "1", "60.00", "60.00", at)]
    elif example == "E2b":
        lines = [_line("1", "001102000010000", "2", "50.00", "100.00", at)]
    else:
        raise ValueError(example)
    return {"medins_setl_id": serial, "mdtrt_cert_type": "02", "mdtrt_cert_no": E2["certno"], "card_sn": None,
            "insutype": "310", "med_type": "11", "begntime": begin, "endtime": at, "acct_used_flag": "0",
            "feedetail": lines}


INSTITUTION_OF = {"E1": "H31010400001", "E2a": "H33010600001", "E2b": "H33010600001"}


@pytest.fixture
def settle(institution_client):
    """Factory: ``settle("E1") -> setlinfo`` through ``POST /api/v1/settlements`` (signed)."""
    clients: dict[str, Any] = {}

    def make(example: str) -> dict[str, Any]:
        code = INSTITUTION_OF[example]
        if code not in clients:
            clients[code] = institution_client(code)
        resp = clients[code].post("/api/v1/settlements", settle_request(example))
        assert resp.status_code == 201, resp.content
        return resp.json()["setlinfo"]

    return make


def close_today() -> Any:
    """Close the cycle that carries today's items (``clearing.services.close.cycle_close``)."""
    from clearing.models import Cycle
    from clearing.services.close import cycle_close

    cycle = Cycle.objects.filter(status=Cycle.Status.OPEN).order_by("clr_date").first()
    assert cycle is not None
    return cycle_close(clr_date=cycle.clr_date, actor="test")
