"""The card scheme's items under the names of their leaf (spec/cards.md §The card scheme's
clearing: ``acpt_id``, ``acceptor_code``; endpoints "those of bureau-api.md with ?scheme=card"),
as JSON pages and as the machine CSV; medical items keep bureau-api.md's names."""

from __future__ import annotations

import pytest

from tests.cards.test_disputes import D, closed_day  # noqa: F401 - the fixture
from tests.clearing.helpers import staff_client

pytestmark = pytest.mark.django_db


def test_card_items_answer_acpt_id_and_acceptor_code(closed_day):  # noqa: ANN001, F811
    """Before: ``setl_id`` and ``fixmedins_code``, names a card bureau's client does not know."""
    bureau = staff_client("card_bureau", "340000")  # issuer of 甲's card: payer of the metro uses
    resp = bureau.get(f"/api/v1/cycles/{D}/items?scheme=card")
    assert resp.status_code == 200, resp.content
    assert resp.json()["results"] == [
        {"acpt_id": "CA20261127000001", "kind": "acceptance", "payer": "340000", "payee": "310000",
         "clr_amt": "4.00", "acceptor_code": "T31000000001", "clr_date": "2026-11-27"},
        {"acpt_id": "CA20261127000003", "kind": "acceptance", "payer": "340000", "payee": "310000",
         "clr_amt": "5.00", "acceptor_code": "T31000000001", "clr_date": "2026-11-27"},
    ]
    csv = bureau.get(f"/api/v1/cycles/{D}/items?scheme=card&format=csv")
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "acpt_id,kind,payer,payee,clr_amt,acceptor_code,clr_date,payer_name,payee_name"
    assert lines[1].startswith("CA20261127000001,acceptance,340000,310000,4.00,T31000000001,2026-11-27,")
    proof = bureau.get(f"/api/v1/cycles/{D}/items/CA20261127000001/proof?scheme=card")
    assert proof.status_code == 200 and '"acpt_id":"CA20261127000001"' in proof.json()["leaf"]
