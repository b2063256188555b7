"""Bureau dashboard fixtures: the worked day of spec/clearing.md closed (with prefunds), one more
item in the open cycle, and browsers (Django test clients) signed in through ``/bureau/signin``."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.clearing.helpers import load_prefunds, record, record_example_day

PASSWORD = "Bureau-password-2026"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):  # noqa: ANN001, ANN202
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def closed_day(db):  # noqa: ANN001, ANN201
    """``(clr_date, items)``: E1–E5, E2b, E7 closed (320000 nets +398.22, 340000 −2,922.22); then
    340000 → 320000 12.34 and 310000 → 330000 5.00 recorded in the next (open) cycle."""
    load_prefunds()
    day = open_cycle_date()
    items = record_example_day()
    cycle_close(clr_date=day, actor="test")
    items["open-1"] = record("340000", "320000", "12.34", "H32010200001")
    items["open-2"] = record("310000", "330000", "5.00", "H33010600001")
    return day, items


def make_staff(role: str, admdvs: str) -> str:
    from accounts.services import staff_create

    username = f"web-{role}-{admdvs}-{next(_seq)}"
    staff_create(username=username, password=PASSWORD, admdvs=admdvs, role=role)
    return username


def sign_in(role: str = "bureau", admdvs: str = "320000") -> Client:
    """A Django test client signed in through the sign-in form (CSRF checks on)."""
    username = make_staff(role, admdvs)
    client = Client(enforce_csrf_checks=True)
    page = client.get("/bureau/signin")
    token = page.cookies["csrftoken"].value
    resp = client.post(
        "/bureau/signin", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert resp.status_code == 302 and resp["Location"] == "/bureau/", resp.content
    client.username = username  # type: ignore[attr-defined]
    client.csrf = client.cookies["csrftoken"].value  # type: ignore[attr-defined]
    return client
