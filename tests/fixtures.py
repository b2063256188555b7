"""Shared fixtures (examples loaded, signed institution clients, staff clients).
Owned by the accounts work.

- ``examples``: loads ``data/examples/`` with ``manage.py import_reference`` (same services as the API).
- ``institution_client``: ``make("H31010400001") -> SignedClient`` (a new client of that institution;
  the institution must exist, e.g. via ``examples``).
- ``staff_client``: ``make("bureau", "340000") -> BearerClient`` (a new staff user and token);
  ``make("clearing_staff")`` for clearing-house staff.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.signing import BearerClient, SignedClient

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "examples"
_seq = itertools.count(1)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def examples(db, tmp_path):
    """The example reference data of ``data/examples`` loaded (regions, institutions, persons, filings,
    catalogue, policies, accumulators, prefunds).

    ``accumulators.csv`` is written for 2026; the worked examples settle *today*, so the copy loaded
    here carries the current Asia/Shanghai year (as spec/../tools/contract_check.py advises), and the
    suite does not start failing on 1 January."""
    import shutil

    from clearing.services.cycles import business_day

    year = str(business_day().year)
    copy = tmp_path / "examples-this-year"
    copy.mkdir()
    for src in EXAMPLES_DIR.glob("*.csv"):
        shutil.copy(src, copy / src.name)
    acc = copy / "accumulators.csv"
    acc.write_text(acc.read_text(encoding="utf-8").replace(",2026,", f",{year},"), encoding="utf-8")
    call_command("import_reference", str(copy), stdout=_Null())
    return EXAMPLES_DIR


@pytest.fixture
def institution_client(db):
    """Factory: ``make(fixmedins_code) -> SignedClient`` for a new client of that institution."""
    from accounts.services import client_create

    def make(fixmedins_code: str = "H31010400001") -> SignedClient:
        client, secret = client_create(fixmedins_code=fixmedins_code)
        return SignedClient(client.client_id, secret)

    return make


@pytest.fixture
def staff_client(db):
    """Factory: ``make(role, admdvs) -> BearerClient`` (``role`` ``bureau`` or ``clearing_staff``;
    ``admdvs`` the bureau's provincial code, e.g. ``"340000"``). The client has ``.username``."""
    from accounts.services import staff_create, staff_token_issue

    def make(role: str = "bureau", admdvs: str = "000000") -> BearerClient:
        username = f"{role}-{admdvs}-{next(_seq)}"
        password = "Test-password-0123456789"
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):  # tests only: PBKDF2 would dominate
            staff_create(username=username, password=password, admdvs=admdvs, role=role)
            token, _ = staff_token_issue(username=username, password=password)
        client = BearerClient(token)
        client.username = username
        return client

    return make


class _Null:
    def write(self, *_a, **_k) -> None:
        pass

    def flush(self) -> None:
        pass
