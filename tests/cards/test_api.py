"""The card endpoints over HTTP: signed acceptor uploads (single, batch), deny lists verified with
``openssl pkeyutl -verify -rawin``, registry moves by a card bureau and a desk, the cardholder's
cards, temporary loss, usage and receipt."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.utils import timezone

from cards.services.reference import acceptor_client_create
from tests.signing import SignedClient

pytestmark = pytest.mark.django_db
SN = {"A34000001": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41", "A32000002": "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62"}


def acceptor(code: str = "T31000000001") -> SignedClient:
    client, secret = acceptor_client_create(acceptor_code=code)
    return SignedClient(client.client_id, secret)


USED: list[str] = []


def record(serial: str, card: str = "A34000001", **kw) -> dict:  # noqa: ANN003
    if not USED:  # one use time for the module, so a resend is byte-for-byte the same record
        USED.append(
            (timezone.now() - dt.timedelta(minutes=1))
            .astimezone(dt.timezone(dt.timedelta(hours=8)))
            .replace(microsecond=0)
            .isoformat()
        )
    now = USED[0]
    return {
        "acpt_serial": serial,
        "card_no": card,
        "card_sn": SN[card],
        "svc_type": "transit_fare",
        "used_at": now,
        "mode": "online",
        "list_amt": "4.00",
        "amt": "4.00",
        "pay_src": "epurse",
    } | kw


def test_acceptor_uploads_single_and_batch(examples):  # noqa: ANN001
    c = acceptor()
    r = c.post("/api/v1/card-acceptances", record("S-1"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["card_no"] == "A34****01"
    assert (body["issuer_admdvs"], body["acceptor_admdvs"], body["cleared"]) == ("340100", "310000", True)
    again = c.post("/api/v1/card-acceptances", record("S-1"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    r = c.post(
        "/api/v1/card-acceptances/batch",
        {
            "items": [
                record("B-1"),
                record("B-2", card="A32000002", list_amt="5.00"),
                record("B-3", list_amt="x"),
                record("S-1"),
            ]
        },
    )
    assert r.status_code == 200, r.content
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == [201, 422, 400, 200]
    assert r.json()["results"][1]["problem"]["code"] == "benefit_mismatch"
    assert r.json()["results"][1]["problem"]["expected_amt"] == "5.00"
    detail = c.get(f"/api/v1/card-acceptances/{body['acpt_id']}")
    assert detail.status_code == 200 and detail.json()["acpt_id"] == body["acpt_id"]
    other = acceptor("T32010000001")
    assert other.get(f"/api/v1/card-acceptances/{body['acpt_id']}").status_code == 404
    rev = c.post(
        f"/api/v1/card-acceptances/{body['acpt_id']}/reversal", {"acpt_serial": "S-1-R", "reason": "x"}
    )
    assert rev.status_code == 201 and rev.json()["amt"] == "-4.00"
    assert (
        c.post(f"/api/v1/card-acceptances/{body['acpt_id']}/reversal", {"acpt_serial": "S-1-R2"}).json()[
            "code"
        ]
        == "already_reversed"
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_deny_list_bytes_verify_with_openssl(examples, tmp_path):  # noqa: ANN001
    c = acceptor()
    doc = c.get("/api/v1/deny-list").json()
    version = doc["document"]["version"]
    data = c.get("/api/v1/deny-list.json").content
    sig = c.get("/api/v1/deny-list.sig").content
    pem = c.get(f"/api/v1/keys/{doc['key_id']}.pem").content
    (tmp_path / "l.json").write_bytes(data)
    (tmp_path / "l.sig").write_bytes(sig)
    (tmp_path / "k.pem").write_bytes(pem)
    out = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(tmp_path / "k.pem"),
            "-rawin",
            "-in",
            str(tmp_path / "l.json"),
            "-sigfile",
            str(tmp_path / "l.sig"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    empty = c.get(f"/api/v1/deny-list/delta?since={version}").json()["document"]
    assert (empty["type"], empty["entries"], empty["base_version"]) == ("delta", [], version)
    assert c.get(f"/api/v1/deny-list/delta?since={version + 5}").json()["code"] == "unknown_version"
    assert c.get("/api/v1/deny-list/delta").status_code == 400


def test_bureau_desk_and_cardholder(examples, staff_client):  # noqa: ANN001
    bureau = staff_client("card_bureau", "340000")
    listed = bureau.get("/api/v1/cards?card_stas=active").json()
    assert listed["count"] == 3 and all(c["card_no"].count("*") == 4 for c in listed["results"])
    assert staff_client("card_bureau", "310000").get("/api/v1/cards/A34000001").status_code == 404
    r = bureau.post("/api/v1/cards/A34000001/status", {"to": "lost", "reason": "x", "reference": "R1"})
    assert r.status_code == 200 and r.json()["card_stas"] == "lost", r.content
    assert bureau.post("/api/v1/cards/A34000001/status", {"to": "active", "reference": "R2"}).json()[
        "code"
    ] == ("formal_loss_irreversible")
    desk = staff_client("card_desk", "310000")
    assert (
        desk.get("/api/v1/cards/A32000002").status_code == 400
        or desk.get("/api/v1/cards/A32000002").status_code == 404
    )
    assert desk.get("/api/v1/cards/A32000002?certno=320102197505124565").status_code == 200
    r = desk.post(
        "/api/v1/cards/A32000002/status",
        {"to": "temp_lost", "reference": "D1", "certno": "320102197505124565"},
    )
    assert r.json()["card_stas"] == "temp_lost" and r.json()["temp_loss_expires_at"]
    c = acceptor()
    later = (timezone.now() + dt.timedelta(seconds=2)).isoformat()  # after the listing: refused online
    denied = c.post("/api/v1/card-acceptances", record("X-1", card="A32000002", used_at=later))
    assert denied.status_code == 422 and denied.json()["code"] == "card_denied"
