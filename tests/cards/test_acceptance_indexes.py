"""``cards_acceptance`` keeps one index per leading column it is searched by, no more: every
insert pays for each index (cards/migrations/0004)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_foreign_keys_are_served_by_the_covering_indexes_only():
    with connection.cursor() as cur:
        found = connection.introspection.get_constraints(cur, "cards_acceptance")
    indexed = sorted(tuple(c["columns"]) for c in found.values() if c["index"] or c["unique"])
    assert [cols for cols in indexed if cols in (("acceptor_id",), ("card_id",))] == []
    assert ("acceptor_id", "acpt_serial") in indexed  # one_acceptance_per_serial
    assert ("card_id", "used_at") in indexed
    fks = {c["columns"][0]: c["foreign_key"] for c in found.values() if c["foreign_key"]}
    assert fks == {"acceptor_id": ("cards_acceptor", "id"), "card_id": ("cards_card", "id"),
                   "reverses_id": ("cards_acceptance", "id")}
