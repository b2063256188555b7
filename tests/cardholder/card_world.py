"""A small card day for the cardholder's card pages: uses of 示例辛's card (A31000008, the
card-only holder of ``data/examples/cards.csv``: certno 310101195603150313, born 1956-03-15, no
medical person) uploaded by signed acceptor clients, the card cycle closed, then a refund and one
more use in the next cycle. Needs the ``examples`` fixture (it loads ``cards.csv`` and the acceptors,
benefits and card settlement accounts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.signing import SignedClient

HOLDER_ONLY = {"certno": "310101195603150313", "card_no": "A31000008",
               "card_sn": "310000D1560000051A2B3C4D5E6F7081", "name": "示例辛"}
SH = dt.timezone(dt.timedelta(hours=8))


def acceptor(code: str) -> SignedClient:
    from cards.services.reference import acceptor_client_create

    client, secret = acceptor_client_create(acceptor_code=code)
    return SignedClient(client.client_id, secret)


def use(client: SignedClient, serial: str, *, ago: dt.timedelta, svc: str, list_amt: str, amt: str,
        pay_src: str) -> dict[str, Any]:
    """One online use of A31000008 ``ago`` before now; returns the ``201`` answer."""
    used_at = (timezone.now() - ago).astimezone(SH).replace(microsecond=0).isoformat()
    body = {"acpt_serial": serial, "card_no": HOLDER_ONLY["card_no"], "card_sn": HOLDER_ONLY["card_sn"],
            "svc_type": svc, "used_at": used_at, "mode": "online", "list_amt": list_amt, "amt": amt,
            "pay_src": pay_src}
    resp = client.post("/api/v1/card-acceptances", body)
    assert resp.status_code == 201, resp.content
    return resp.json()


def card_day() -> dict[str, Any]:
    """Three uses (Shanghai metro 3.00 intra-province, Jiaxing scenic spot free for the 70-year-old
    under ``elder_70_free`` with list price 95.00, Nanjing bus 2.00), the card cycle closed, then a
    refund of the Nanjing fare and a Hangzhou bus fare 2.00 in the next cycle. Returns the answers
    by name and the closed cycle."""
    from clearing.services.close import cycle_close
    from clearing.services.cycles import open_cycle_date

    metro, scenic, nanjing = acceptor("T31000000001"), acceptor("S33042100001"), acceptor("T32010000001")
    out: dict[str, Any] = {
        "metro": use(metro, "SHM-1", ago=dt.timedelta(hours=3), svc="transit_fare", list_amt="3.00",
                     amt="3.00", pay_src="epurse"),
        "scenic": use(scenic, "JXS-1", ago=dt.timedelta(hours=2), svc="admission", list_amt="95.00",
                      amt="0.00", pay_src="none"),
        "nanjing": use(nanjing, "NJB-1", ago=dt.timedelta(hours=1), svc="transit_fare", list_amt="2.00",
                       amt="2.00", pay_src="epurse"),
    }
    out["cycle"] = cycle_close(clr_date=open_cycle_date(scheme="card"), actor="test", scheme="card")
    refund = nanjing.post(f"/api/v1/card-acceptances/{out['nanjing']['acpt_id']}/reversal",
                          {"acpt_serial": "NJB-1-R", "reason": "double tap"})
    assert refund.status_code == 201, refund.content
    out["refund"] = refund.json()
    out["hangzhou"] = use(acceptor("T33010000001"), "HZB-1", ago=dt.timedelta(minutes=5), svc="transit_fare",
                          list_amt="2.00", amt="2.00", pay_src="epurse")
    return out
