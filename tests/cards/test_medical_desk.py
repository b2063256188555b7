"""spec/cards.md, Changes to other parts: the medical desk refuses a listed card (``mdtrt_cert_type``
03) with ``422 card_denied``, right after ``unknown_person``; the same card settles once unlisted."""

from __future__ import annotations

import pytest

from tests.reliability.bills import bill

pytestmark = pytest.mark.django_db


def card_bill(serial: str) -> dict:
    body = bill(serial=serial)
    return body | {
        "mdtrt_cert_type": "03",
        "mdtrt_cert_no": "A34000001",
        "card_sn": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41",
    }


def test_listed_card_refused_at_the_hospital(examples, institution_client, staff_client):  # noqa: ANN001
    from tests.reliability.conftest import _load_support_data

    _load_support_data()
    hospital = institution_client("H31010400001")
    ok = hospital.post("/api/v1/settlements", card_bill("CARD-OK-1"))
    assert ok.status_code == 201, ok.content
    desk = staff_client("card_desk", "310000")
    r = desk.post(
        "/api/v1/cards/A34000001/status",
        {"to": "temp_lost", "reference": "H1", "certno": "340104198001011234"},
    )
    assert r.status_code == 200
    refused = hospital.post("/api/v1/settlements", card_bill("CARD-NO-1"))
    assert refused.status_code == 422 and refused.json()["code"] == "card_denied", refused.content
    assert refused.json()["listed_since"]
    unknown = hospital.post("/api/v1/settlements", card_bill("CARD-NO-2") | {"mdtrt_cert_no": "ZZ9999999"})
    assert unknown.json()["code"] == "unknown_person"  # unknown_person comes first
