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


NEW_SN = "340100D15600000512AB34CD56EF7890"
SN_A34000001 = "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41"


def test_replacement_card_settles_at_once_and_the_old_one_is_refused(  # noqa: ANN201
    examples, institution_client, staff_client  # noqa: ANN001
):
    """spec/cards.md, Changes to other parts: the card is found in the registry and the person
    through its ``certno``, so a card replaced mid-day (a new ``card_no`` that no person row
    carries) settles at once; the replaced card is listed ``cancelled`` and refused, at the
    person lookup too, right after ``unknown_person``."""
    from tests.reliability.conftest import _load_support_data

    _load_support_data()
    hospital = institution_client("H31010400001")
    desk = staff_client("card_desk", "310000")
    r = desk.post(
        "/api/v1/cards/A34000001/replace",
        {"new_card_no": "A34000101", "new_card_sn": NEW_SN, "reason": "lost", "reference": "R-H1",
         "certno": "340104198001011234"},
    )
    assert r.status_code == 201, r.content
    assert (r.json()["old"]["card_stas"], r.json()["new"]["card_stas"]) == ("cancelled", "active")
    new = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A34000101", "card_sn": NEW_SN}
    found = hospital.post("/api/v1/persons/lookup", new)
    assert (found.status_code, found.json()["psn_no"]) == (200, "34010000000000000001"), found.content
    lower = hospital.post("/api/v1/persons/lookup", new | {"card_sn": NEW_SN.lower()})
    assert lower.json()["psn_no"] == "34010000000000000001"  # card_sn compared upper-case
    ok = hospital.post("/api/v1/settlements", card_bill("CARD-NEW-1") | new)
    assert ok.status_code == 201, ok.content
    assert ok.json()["setlinfo"]["psn_no"] == "34010000000000000001"
    old = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A34000001", "card_sn": SN_A34000001}
    for path, body in (("/api/v1/persons/lookup", old), ("/api/v1/settlements", card_bill("CARD-OLD-1"))):
        refused = hospital.post(path, body)
        assert (refused.status_code, refused.json()["code"]) == (422, "card_denied"), refused.content
    wrong_sn = hospital.post("/api/v1/persons/lookup", new | {"card_sn": "0" * 32})
    assert wrong_sn.json()["code"] == "unknown_person"  # in the registry, card_sn differs: no fallback
    wrong = hospital.post("/api/v1/settlements", card_bill("CARD-WRONG-1") | new | {"card_sn": "0" * 32})
    assert wrong.json()["code"] == "unknown_person"
    # the batch path resolves the same way, per item
    items = [card_bill("CARD-NEW-B1") | new, card_bill("CARD-OLD-B1") | old]
    batch = hospital.post("/api/v1/settlements/batch", {"items": items})
    assert batch.status_code == 200, batch.content
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [201, 422], results
    assert results[0]["setlinfo"]["psn_no"] == "34010000000000000001"
    assert results[1]["problem"]["code"] == "card_denied"
