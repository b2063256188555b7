"""The cardholder's ``GET /api/v1/me/cards`` shows who moved a card by role, never a staff login:
a desk's temporary loss is ``card_desk`` without its username (``actor``), which staff still see
on ``GET /api/v1/cards/{card_no}`` (spec/cards.md §Views, §Security and audit)."""

from __future__ import annotations

import pytest

from tests.cardholder.conftest import E1, PASSWORD, post_json
from tests.clearing.helpers import staff_client
from tests.signing import BearerClient

pytestmark = pytest.mark.django_db


def test_holder_history_shows_roles_not_staff_logins(examples, client):  # noqa: ANN001
    desk = staff_client("card_desk", "310000", username="desk-sh-anna")
    r = desk.post(
        "/api/v1/cards/A34000001/status",
        {"to": "temp_lost", "reason": "t", "reference": "H-1", "certno": E1["certno"]},
    )
    assert r.status_code == 200, r.content
    assert (
        post_json(
            client,
            "/api/v1/cardholder/activate",
            {"certno": E1["certno"], "card_no": E1["card_no"], "password": PASSWORD},
        ).status_code
        == 201
    )
    token = post_json(client, "/api/v1/cardholder/token", {"certno": E1["certno"], "password": PASSWORD})
    holder = BearerClient(token.json()["token"])
    resp = holder.get("/api/v1/me/cards")
    (card,) = resp.json()["results"]
    assert [(h["from"], h["to"], h["role"]) for h in card["history"]] == [
        (None, "active", "clearing_staff"),
        ("active", "temp_lost", "card_desk"),
    ]
    assert all("actor" not in h for h in card["history"])
    assert "desk-sh-anna" not in resp.content.decode()
    staff = staff_client("clearing_staff", "000000").get("/api/v1/cards/A34000001").json()
    assert staff["history"][-1]["actor"] == "desk-sh-anna"
