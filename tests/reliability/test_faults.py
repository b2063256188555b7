"""Outages of PostgreSQL and Redis under a stream of signed requests (issue 7 §2; spec/README.md
§Errors: "A database or broker outage answers 503 with Retry-After, never 500, and loses nothing
accepted"; spec/security.md: nonces are kept in Redis).

Each test runs the service under gunicorn against its OWN throw-away PostgreSQL cluster and
redis-server (see ``harness``), which it stops and starts; the shared instances are never touched.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.reliability.bills import bill
from tests.reliability.harness import HmacAuth, LiveService, ThrowawayPostgres, ThrowawayRedis

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def stack():
    """Throw-away PostgreSQL + Redis + gunicorn service with the examples loaded and one client of
    the Shanghai hospital H31010400001. Yields ``(pg, redis, service, auth)``."""
    pg = ThrowawayPostgres()
    rd = ThrowawayRedis()
    svc = None
    try:
        pg.start()
        pg.create_db()
        rd.start()
        svc = LiveService({"DATABASE_URL": pg.url, "REDIS_URL": rd.url(0)}, workers=2, threads=4)
        svc.prepare()
        cid, secret = svc.client("H31010400001")
        svc.start()
        yield pg, rd, svc, HmacAuth(cid, secret)
    finally:
        if svc is not None:
            svc.stop()
        rd.cleanup()
        pg.cleanup()


class Stream:
    """Threads posting settlements (each with a new serial; one thread in batches of five) until
    stopped; every answer recorded per serial as ``(t, serial, status | "no-answer", headers, body)``."""

    def __init__(self, base_url: str, auth: HmacAuth, threads: int = 4) -> None:
        self.base_url, self.auth, self.threads = base_url, auth, threads
        self.results: list[tuple[float, str, object, dict, dict | str]] = []
        self.bodies: dict[str, dict] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads)

    def _run(self, batches: bool = False) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            bodies = [bill() for _ in range(5 if batches else 1)]
            for b in bodies:
                self.bodies[b["medins_setl_id"]] = b
            path, payload_in = (
                ("/api/v1/settlements/batch", {"items": bodies})
                if batches
                else ("/api/v1/settlements", bodies[0])
            )
            try:
                r = session.post(self.base_url + path, json=payload_in, auth=self.auth, timeout=20)
                try:
                    payload: dict | str = r.json()
                except ValueError:
                    payload = r.text[:500]
                if batches and r.status_code == 200:
                    # each item answers for itself: {"status": 201|200, "setlinfo"} or a problem
                    recs = [
                        (time.monotonic(), b["medins_setl_id"], item["status"], dict(r.headers), item)
                        for b, item in zip(bodies, payload["results"], strict=True)
                    ]
                else:
                    recs = [
                        (time.monotonic(), b["medins_setl_id"], r.status_code, dict(r.headers), payload)
                        for b in bodies
                    ]
            except requests.RequestException as e:
                recs = [(time.monotonic(), b["medins_setl_id"], "no-answer", {}, repr(e)) for b in bodies]
                time.sleep(0.1)
            with self._lock:
                self.results.extend(recs)
            if recs[0][2] == 503:
                time.sleep(0.05)

    def start(self) -> Stream:
        """``threads - 1`` threads post single settlements, one posts batches of five."""
        for n in range(self.threads):
            self._pool.submit(self._run, n == 0)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    def statuses(self, since: float = 0.0) -> list[object]:
        with self._lock:
            return [r[2] for r in self.results if r[0] >= since]


def test_postgres_outage_answers_503_loses_nothing_and_recovers(stack):
    pg, _rd, svc, auth = stack
    stream = Stream(svc.base_url, auth).start()
    try:
        assert _wait(lambda: stream.statuses().count(201) >= 5, 20), stream.statuses()
        workers = _children(svc.proc.pid)
        assert len(workers) == 2
        pg.stop("immediate")  # crash-stop: in-flight transactions are cut off
        down_at = time.monotonic()
        assert _wait(lambda: stream.statuses(down_at).count(503) >= 5, 20), stream.statuses(down_at)
        time.sleep(1.0)
        pg.start()
        up_at = time.monotonic()
        # The same gunicorn processes recover: no restart of the service.
        assert _wait(lambda: stream.statuses(up_at + 0.5).count(201) >= 5, 30), stream.statuses(up_at)
    finally:
        stream.stop()

    results = list(stream.results)
    statuses = [r[2] for r in results]
    assert all(s in (200, 201, 503, "no-answer") for s in statuses), sorted(set(map(str, statuses)))
    for _t, _serial, status, headers, payload in results:
        if status == 503:
            assert headers.get("Retry-After", "").isdigit(), headers
            assert headers.get("Content-Type", "").startswith("application/problem+json"), headers
            assert payload["status"] == 503 and payload["code"], payload
    assert svc.proc.poll() is None, "gunicorn died"
    assert _children(svc.proc.pid) == workers, "gunicorn workers were restarted"

    accepted = {r[1]: r[4]["setlinfo"]["setl_id"] for r in results if r[2] in (200, 201)}
    rows = pg.psql(
        "SELECT s.medins_setl_id || '|' || s.setl_id || '|' || "
        "(SELECT count(*) FROM settlement_feedetail f WHERE f.settlement_id = s.id) || '|' || "
        "(SELECT count(*) FROM clearing_clearingitem c WHERE c.setl_id = s.setl_id) "
        "FROM settlement_settlement s"
    ).splitlines()
    stored = {}
    for row in rows:
        serial, setl_id, lines, items = row.split("|")
        stored[serial] = setl_id
        assert (lines, items) == ("1", "1"), f"half-written settlement {serial}: {lines} lines, {items} items"
    orphans = pg.psql(
        "SELECT count(*) FROM clearing_clearingitem c WHERE c.kind = 'settlement' AND NOT EXISTS "
        "(SELECT 1 FROM settlement_settlement s WHERE s.setl_id = c.setl_id)"
    )
    assert orphans == "0", "clearing items without their settlement"
    missing = {s: i for s, i in accepted.items() if stored.get(s) != i}
    assert not missing, f"answered 201/200 but not in the database: {missing}"
    # Anything stored that the client never saw accepted was cut off mid-answer (503 / no answer)
    # after its commit: allowed (the client retries and gets 200 Idempotent-Replayed).
    unknown = set(stored) - {r[1] for r in results}
    assert not unknown
    # Clients retry what was refused or unanswered: each retry is accepted exactly once — 201 if the
    # first attempt was lost, 200 Idempotent-Replayed (same setl_id) if it had committed.
    retried = [r[1] for r in results if r[2] in (503, "no-answer")][:40]
    session = requests.Session()
    for serial in retried:
        r = session.post(
            svc.base_url + "/api/v1/settlements", json=stream.bodies[serial], auth=auth, timeout=20
        )
        assert r.status_code in (200, 201), (serial, r.status_code, r.text[:300])
        if serial in stored:
            assert r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true", serial
            assert r.json()["setlinfo"]["setl_id"] == stored[serial]
        else:
            assert r.status_code == 201, serial
    counts = pg.psql("SELECT count(*) || '|' || count(DISTINCT medins_setl_id) FROM settlement_settlement")
    total, distinct = counts.split("|")
    assert total == distinct, "a serial was recorded twice"


def test_redis_outage_refuses_signed_requests_with_503(stack):
    _pg, rd, svc, auth = stack
    session = requests.Session()
    r = session.post(svc.base_url + "/api/v1/settlements", json=bill(), auth=auth, timeout=20)
    assert r.status_code == 201, r.text
    before = _count(_pg)
    rd.stop()
    answers = []
    for _ in range(6):
        r = session.post(svc.base_url + "/api/v1/settlements", json=bill(), auth=auth, timeout=20)
        answers.append(r)
    assert [a.status_code for a in answers] == [503] * 6, [(a.status_code, a.text[:200]) for a in answers]
    for a in answers:
        assert a.headers["Retry-After"].isdigit()
        assert a.headers["Content-Type"].startswith("application/problem+json")
    assert _count(_pg) == before, "a request was accepted while its nonce could not be checked"
    # Other traffic during the outage: never a 500.
    assert requests.get(svc.base_url + "/healthz", timeout=10).status_code == 200
    ready = requests.get(svc.base_url + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.headers["Retry-After"].isdigit()
    for path in ("/api/v1/keys", "/api/v1/whoami", "/api/v1/settlements"):
        r = session.get(svc.base_url + path, auth=auth, timeout=20)
        assert r.status_code in (200, 401, 503), (path, r.status_code, r.text[:200])
    # Redis back on the same port: the same service accepts signed requests again.
    rd.start()
    assert _wait(
        lambda: (
            session.post(svc.base_url + "/api/v1/settlements", json=bill(), auth=auth, timeout=20).status_code
            == 201
        ),
        20,
    )
    assert _count(_pg) == before + 1


@pytest.fixture
def broker_stack():
    """Like ``stack`` with a second throw-away Redis as the Celery broker (no worker: a queued close
    stays in the queue) and a clearing-staff token. Yields ``(pg, broker, service, headers)``."""
    pg, cache_redis, broker = ThrowawayPostgres(), ThrowawayRedis(), ThrowawayRedis()
    svc = None
    try:
        pg.start()
        pg.create_db()
        cache_redis.start()
        broker.start()
        svc = LiveService(
            {
                "DATABASE_URL": pg.url,
                "REDIS_URL": cache_redis.url(0),
                "CELERY_BROKER_URL": broker.url(0),
                "CELERY_RESULT_BACKEND": cache_redis.url(1),
            }
        )
        svc.prepare()
        svc.manage(
            "create_staff",
            "g-staff",
            "--admdvs",
            "000000",
            "--role",
            "clearing_staff",
            "--password",
            "Staff-password-0123",
        )
        svc.start()
        r = requests.post(
            svc.base_url + "/api/v1/auth/token",
            json={"username": "g-staff", "password": "Staff-password-0123"},
            timeout=20,
        )
        assert r.status_code == 200, r.text
        yield pg, broker, svc, {"Authorization": f"Bearer {r.json()['token']}"}
    finally:
        if svc is not None:
            svc.stop()
        broker.cleanup()
        cache_redis.cleanup()
        pg.cleanup()


def test_broker_outage_refuses_the_close_with_503_and_a_later_close_is_queued(broker_stack):
    import redis

    pg, broker, svc, headers = broker_stack
    today = pg.psql("SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
    url = f"{svc.base_url}/api/v1/cycles/{today}/close"
    broker.stop()
    r = requests.post(url, headers=headers, timeout=60)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    # The refused close changed nothing: the cycle (if it exists yet) is still open.
    assert pg.psql(f"SELECT status FROM clearing_cycle WHERE clr_date = '{today}'") in ("", "open")
    broker.start()
    assert _wait(lambda: requests.post(url, headers=headers, timeout=60).status_code == 202, 30)
    # Accepted means queued: the task waits in the broker for a worker (none runs here), on the
    # close queue of config.celery's routing (any of its queues, should the routing move it).
    from config.celery import QUEUES

    waiting = {queue: redis.Redis(port=broker.port).llen(queue) for queue in QUEUES}
    assert sum(waiting.values()) >= 1, waiting


def _count(pg: ThrowawayPostgres) -> int:
    return int(pg.psql("SELECT count(*) FROM settlement_settlement"))


def _wait(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def _children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid`` (gunicorn's workers)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def test_identical_requests_at_the_same_moment_over_http(stack):
    """spec/hospital-api.md: "Any number of identical requests at the same moment → exactly one 201,
    the rest 200, never 500, one row" — through gunicorn (2 workers × 4 threads), each request
    signed with its own nonce."""
    pg, _rd, svc, auth = stack
    body = bill()
    barrier = threading.Barrier(16)

    def send(_: int) -> requests.Response:
        barrier.wait(timeout=30)
        return requests.post(svc.base_url + "/api/v1/settlements", json=body, auth=auth, timeout=60)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, range(16)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 15 + [201], [(a.status_code, a.text[:200]) for a in answers]
    assert {a.json()["setlinfo"]["setl_id"] for a in answers} == {answers[0].json()["setlinfo"]["setl_id"]}
    assert all(a.headers.get("Idempotent-Replayed") == "true" for a in answers if a.status_code == 200)
    serial = body["medins_setl_id"]
    assert pg.psql(f"SELECT count(*) FROM settlement_settlement WHERE medins_setl_id = '{serial}'") == "1"
    assert (
        pg.psql(
            "SELECT count(*) FROM clearing_clearingitem c JOIN settlement_settlement s "
            f"ON s.setl_id = c.setl_id WHERE s.medins_setl_id = '{serial}'"
        )
        == "1"
    )
