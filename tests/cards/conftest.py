"""Fixtures of the card tests: a settable clock (``django.utils.timezone.now``), the spec's test
signing key (seed = SHA-256 of ``kuasheng-cards-example-key``), the card example files loaded."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.imports import rows_from_csv_bytes
from core.principals import Principal

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
SH = dt.timezone(dt.timedelta(hours=8))
SYSTEM = Principal(role="clearing_staff", actor="test")
TEST_SEED = hashlib.sha256(b"kuasheng-cards-example-key").digest()
TEST_PUBLIC = "dd35f606f4b7bf9b477fb7c0b201ccfe72ed5082801aecf05c4f2c0b2bc95b18"


def T(text: str) -> dt.datetime:  # noqa: N802 - the spec's notation
    """A spec time: ``2026-11-27T08:15:05`` is Asia/Shanghai."""
    at = dt.datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=SH)


class Clock:
    def __init__(self) -> None:
        self.at = T("2026-11-20T10:00:00")

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, text: str | dt.datetime) -> dt.datetime:
        self.at = T(text) if isinstance(text, str) else text
        return self.at


@pytest.fixture
def clock(monkeypatch):  # noqa: ANN001, ANN201
    c = Clock()
    monkeypatch.setattr("django.utils.timezone.now", c)
    return c


@pytest.fixture
def test_key(settings):  # noqa: ANN001, ANN201
    settings.CLEARING_SIGNING_KEY = "cards-example:" + base64.b64encode(TEST_SEED).decode()
    settings.CARD_ACPT_SEQ_DIGITS = 6
    settings.CARD_TEMP_LOSS_TTL_DAYS = 7
    return settings


def load(name: str, func) -> object:  # noqa: ANN001
    return func(rows=rows_from_csv_bytes((EXAMPLES / name).read_bytes()), province=None, principal=SYSTEM)


@pytest.fixture
def card_examples(db, clock, test_key):  # noqa: ANN001, ANN201
    """acceptors, cards, benefits, card settlement accounts loaded at 2026-11-20 10:00."""
    from cards.services.reference import acceptors_import, benefits_import, card_prefunds_import
    from cards.services.registry import cards_import

    clock.set("2026-11-20T10:00:00")
    results = {
        "acceptors": load("acceptors.csv", acceptors_import),
        "cards": load("cards.csv", cards_import),
        "benefits": load("card_benefits.csv", benefits_import),
        "card_prefunds": load("card_prefunds.csv", card_prefunds_import),
    }
    return results


def holder(certno: str) -> SimpleNamespace:
    """A cardholder principal for ``certno`` (its person's blind index)."""
    from cards.services.registry import certno_index

    return SimpleNamespace(
        role="cardholder",
        actor=f"holder-{certno[-4:]}",
        admdvs=None,
        person=SimpleNamespace(certno_bidx=certno_index(certno)),
    )


def desk(admdvs: str) -> SimpleNamespace:
    return SimpleNamespace(role="card_desk", actor=f"desk-{admdvs}", admdvs=admdvs, person=None)
