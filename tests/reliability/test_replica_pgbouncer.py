"""The worked day through a PgBouncer (transaction pooling) in front of the primary, with reads
from a streaming replica (issue 15 item 6; docs/scaling.md §Read replica, §PgBouncer).

One primary, one hot standby streaming from it, one PgBouncer, one Redis, gunicorn — all on
loopback ports, from Debian's packages. Writes (settlements, the close) go through PgBouncer; the
lag-tolerant reads (head, statements, items, proofs) are served by the replica (its statement log
shows them). Then the replica is stopped mid-run: reads fall back to the primary with the same
bytes and writes go on. Then the primary is stopped: 503 with Retry-After, and once it is back
nothing accepted is lost and every figure is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
import requests

from clearing.merkle import verify_inclusion
from tests.clearing.test_example_settlements import BILLS, CLR
from tests.reliability.cluster import PGBOUNCER, StreamingReplica, ThrowawayPgBouncer
from tests.reliability.harness import HmacAuth, LiveService, ThrowawayPostgres, ThrowawayRedis, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which(PGBOUNCER) and not os.path.exists(PGBOUNCER),
                       reason="pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"),
]
LOG_ALL = "-c log_statement=all -c log_min_messages=warning"
PASSWORD = "Staff-password-0123"
NETS = {"310000": "5422.22", "320000": "398.22", "330000": "-2898.22", "340000": "-2922.22"}
BALANCES = {"310000": "10422.22", "320000": "5398.22", "330000": "-898.22", "340000": "7077.78"}


@pytest.fixture
def cluster():
    pg, rd = ThrowawayPostgres("ks_scale_rep"), ThrowawayRedis()
    replica = bouncer = svc = None
    try:
        pg.start(LOG_ALL)
        pg.create_db()
        replica = StreamingReplica(pg)
        replica.start(LOG_ALL)
        bouncer = ThrowawayPgBouncer(pg)
        bouncer.start()
        rd.start()
        svc = LiveService(
            {"DATABASE_URL": bouncer.url, "DATABASE_REPLICA_URL": replica.url, "REDIS_URL": rd.url(0),
             "REPLICA_RETRY_SECONDS": "600"},
            workers=1,
            threads=4,
        )
        svc.prepare()  # migrations and the examples, through PgBouncer
        for name, role in (("closer", "clearing_staff"), ("reader", "clearing_staff")):
            svc.manage("create_staff", name, "--admdvs", "000000", "--role", role, "--password", PASSWORD)
        clients = {code: HmacAuth(*svc.client(code)) for code in sorted({c for c, _ in BILLS.values()})}
        svc.start()
        yield pg, replica, bouncer, svc, clients
    finally:
        if svc is not None:
            svc.stop()
        for part in (bouncer, replica, rd, pg):
            if part is not None:
                part.cleanup()


def _token(svc: LiveService, username: str) -> dict[str, str]:
    r = requests.post(svc.base_url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                      timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _reads(svc: LiveService, headers: dict[str, str], day: str, setl_id: str) -> dict:
    """Everything a bureau reads of a closed day (all lag-tolerant), as bytes/JSON."""
    base = f"{svc.base_url}/api/v1/cycles/{day}"
    got: dict = {"head": requests.get(base + "/head.json", headers=headers, timeout=30)}
    for adm in NETS:
        got[adm] = requests.get(f"{base}/statement?admdvs={adm}", headers=headers, timeout=30)
    got["items"] = requests.get(base + "/items?page_size=100", headers=headers, timeout=30)
    got["proof"] = requests.get(f"{base}/items/{setl_id}/proof", headers=headers, timeout=30)
    bad = {k: (r.status_code, r.text[:200]) for k, r in got.items() if r.status_code != 200}
    assert not bad, bad
    return got


def _check_figures(got: dict) -> None:
    head = json.loads(got["head"].content)
    assert (head["item_cnt"], head["tree_size"], head["gross"], head["net_funding"],
            head["netting_efficiency"]) == (6, 7, "6166.00", "5820.44", "0.0560")
    assert head["net_positions"] == NETS
    for adm, net in NETS.items():
        assert got[adm].json()["statement"]["net"] == net
    assert got["320000"].json()["statement"]["intra_province"] == {"cnt": 1, "amount": "20.00"}
    items = got["items"].json()["results"]
    assert len(items) == 7 and sorted(i["clr_amt"] for i in items) == sorted(CLR.values())
    proof = got["proof"].json()
    leaf = hashlib.sha256(b"\x00" + proof["leaf"].encode()).digest()
    path = [bytes.fromhex(p) for p in proof["audit_path"]]
    root = bytes.fromhex(head["merkle_root"])
    assert verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"], path, root)


def test_worked_day_through_pgbouncer_and_a_replica_survives_both_outages(cluster):
    pg, replica, _bouncer, svc, clients = cluster
    mark = len((pg.dir / "log").read_text(errors="replace"))  # the primary's log before the day
    session = requests.Session()
    ids = {}
    for label, (code, make) in BILLS.items():  # the worked day, written through PgBouncer
        r = session.post(svc.base_url + "/api/v1/settlements", json=make(), auth=clients[code], timeout=60)
        assert r.status_code == 201, r.text
        assert r.json()["setlinfo"]["clr_amt"] == CLR[label]
        ids[label] = r.json()["setlinfo"]["setl_id"]
    day = pg.psql("SELECT max(clr_date) FROM clearing_cycle")
    closer, reader = _token(svc, "closer"), _token(svc, "reader")
    r = session.post(f"{svc.base_url}/api/v1/cycles/{day}/close", headers=closer, timeout=120)
    assert r.status_code in (200, 202), r.text
    lsn = pg.psql("SELECT pg_current_wal_lsn()")
    assert wait_until(lambda: replica.replay_lsn_reached(lsn), 30)

    on_replica = _reads(svc, reader, day, ids["E1"])
    _check_figures(on_replica)
    replica_log = (replica.dir / "log").read_text(errors="replace")
    assert "clearing_statement" in replica_log and "clearing_cyclehead" in replica_log
    prefunds = requests.get(svc.base_url + "/api/v1/prefunds", headers=reader, timeout=30).json()["results"]
    assert {p["admdvs"]: p["balance"] for p in prefunds} == BALANCES

    replica.stop("immediate")  # mid-run: reads fall back to the primary, writes go on
    fallback = _reads(svc, reader, day, ids["E1"])
    assert all(fallback[k].content == on_replica[k].content for k in ("head", *NETS, "items", "proof"))
    code, make = BILLS["E7"]
    extra = session.post(svc.base_url + "/api/v1/settlements", json=make(), auth=clients[code], timeout=60)
    assert extra.status_code == 201, extra.text
    assert "replica unavailable" in svc.log_text()

    pg.stop("immediate")  # the primary too: 503 with Retry-After, never 500
    refused_body = make()
    refused = session.post(svc.base_url + "/api/v1/settlements", json=refused_body, auth=clients[code],
                           timeout=60)
    assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit(), refused.text
    read = requests.get(f"{svc.base_url}/api/v1/cycles/{day}/head.json", headers=reader, timeout=60)
    assert read.status_code == 503 and read.headers["Content-Type"].startswith("application/problem+json")
    pg.start(LOG_ALL)
    assert wait_until(
        lambda: session.post(svc.base_url + "/api/v1/settlements", json=refused_body, auth=clients[code],
                             timeout=60).status_code == 201,
        30,
    )
    # nothing accepted was lost; the closed day reads the same
    assert pg.psql("SELECT count(*) FROM settlement_settlement") == str(len(BILLS) + 2)
    stored = set(pg.psql("SELECT setl_id FROM settlement_settlement").split())
    assert set(ids.values()) | {extra.json()["setlinfo"]["setl_id"]} <= stored
    again = _reads(svc, reader, day, ids["E1"])
    assert all(again[k].content == on_replica[k].content for k in ("head", *NETS, "items", "proof"))
    # transaction pooling: no session state was set on the primary by the service
    day_log = (pg.dir / "log").read_text(errors="replace")[mark:]
    assert "statement: SET " not in day_log and "WITH HOLD" not in day_log
    assert "pg_advisory_xact_lock" in day_log  # the writers' cycle locks went through PgBouncer
