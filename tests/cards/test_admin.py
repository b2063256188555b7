"""The admin lists every cards model read-only (``core.admin_readonly.ReadOnlyAdmin``: no add, change
or delete, a superuser included) and never shows a card number or certno unmasked."""

from __future__ import annotations

import csv

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from cards import models as m
from cards.models import Acceptor, DenyListVersion
from cards.services.acceptances import acceptances_record
from cards.services.denylist import full_document
from cards.services.moves import card_replace, card_status_request
from cards.services.reference import acceptor_client_create
from tests.accounts.test_admin_lockdown import PASSWORD, admin_login, create_staff, fast_hashers  # noqa: F401
from tests.cards.conftest import EXAMPLES, desk, holder
from tests.cards.test_examples import SN, tap

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashers")]


def _a_card_day(clock) -> None:  # noqa: ANN001
    """One of every cards row the services write: a tap, a temporary loss, a refused tap, a
    replacement, a full deny list, an acceptor client."""
    clock.set("2026-11-27T07:58:12")
    acceptor = Acceptor.objects.get(acceptor_code="T31000000001")
    rec = tap("A34000001", "", "transit_fare", "2026-11-27T07:58:12+08:00", "online", None, "4.00", "4.00",
              "epurse", "SER-1")
    assert acceptances_record(acceptor=acceptor, records=[rec], now=clock())[0].status == 201
    clock.set("2026-11-27T08:15:05")
    card_status_request(principal=holder("340104198001011234"), card_no="A34000001", to="temp_lost",
                        reason="cardholder", reference="jia-1", certno=None, card_sn=None)
    clock.set("2026-11-27T08:15:40")
    rec = rec | {"acpt_serial": "SER-2", "used_at": "2026-11-27T08:15:40+08:00"}
    assert acceptances_record(acceptor=acceptor, records=[rec], now=clock())[0].status != 201
    clock.set("2026-11-27T12:10:00")
    card_replace(principal=desk("310000"), card_no="A33000004",
                 data={"new_card_no": "A33000104", "new_card_sn": SN["A33000104"], "reason": "lost",
                       "reference": "SH-DESK-1", "certno": "330106196808307898"})
    full_document(DenyListVersion.objects.order_by("-version").first())
    acceptor_client_create(acceptor_code="T31000000001")


def test_every_cards_model_is_listed_read_only_and_masked(card_examples, clock):  # noqa: ANN001
    _a_card_day(clock)
    create_staff("ops1")
    staff, status = admin_login("ops1")
    assert status == 302
    root = Client()
    root.force_login(get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD))
    models = [model for model in admin.site._registry if model._meta.app_label == "cards"]
    assert len(models) == 13
    with (EXAMPLES / "cards.csv").open(encoding="utf-8") as f:
        secrets = [(row["card_no"], row["certno"], row["psn_name"]) for row in csv.DictReader(f)]
    secrets.append(("A33000104", "", ""))
    empty = []
    for model in models:
        name = model._meta.model_name
        obj = model.objects.order_by("pk").first()
        if obj is None:
            empty.append(name)
        for c in (staff, root):
            page = c.get(f"/admin/cards/{name}/")
            assert page.status_code == 200, name
            pages = [page.content.decode()]
            assert c.get(f"/admin/cards/{name}/add/").status_code == 403, name
            if obj is not None:
                url = f"/admin/cards/{name}/{obj.pk}/"
                detail = c.get(url + "change/")
                assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode(), name
                pages.append(detail.content.decode())
                assert c.post(url + "change/", {}).status_code == 403, name
                assert c.post(url + "delete/", {"post": "yes"}).status_code == 403, name
                bulk = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
                c.post(f"/admin/cards/{name}/", bulk)
            for text in pages:
                for card_no, certno, psn_name in secrets:
                    assert card_no not in text, (name, card_no)
                    assert not certno or certno not in text, (name, certno)
                    assert not psn_name or psn_name not in text, (name, psn_name)
    # PostgreSQL numbers acceptances with a sequence; SQLite with the day-sequence table
    assert set(empty) <= {"acceptancedaysequence"}, empty
    cards = staff.get("/admin/cards/card/").content.decode()
    assert "A34****01" in cards and "A33****04" in cards
    assert "A34****01" in staff.get("/admin/cards/acceptance/").content.decode()
    assert m.Card.objects.count() == len(secrets)
    assert m.Acceptance.objects.count() == 1
