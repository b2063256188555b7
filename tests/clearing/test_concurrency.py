"""Concurrency on PostgreSQL with real connections: two closes at once, items committing while
the close runs, and a real Celery worker SIGKILLed mid-close."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from clearing.models import ClearingItem, Cycle, CycleHead, Statement
from clearing.services.close import cycle_close
from clearing.services.cycles import clearing_item_record, open_cycle_date
from clearing.services.documents import head_document
from clearing.services.figures import cycle_figures
from core.canonical import canonical_bytes
from core.ids import new_setl_id
from tests.clearing.helpers import load_prefunds, record_example_day

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def in_thread(fn, results: list, errors: list):
    def run() -> None:
        try:
            results.append(fn())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_two_closes_at_once_give_one_head():
    load_prefunds()
    record_example_day()
    day = open_cycle_date()
    results, errors = [], []
    threads = [
        in_thread(lambda: bytes(cycle_close(clr_date=day, actor="t").head.canonical), results, errors)
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1 and CycleHead.objects.count() == 1
    assert Statement.objects.count() == 4


def test_items_committing_during_the_close_land_in_exactly_one_cycle():
    day = open_cycle_date()
    stop = threading.Event()
    written: list[tuple[str, dt.date]] = []
    errors: list = []

    def writer() -> None:
        try:
            while not stop.is_set():
                with transaction.atomic():
                    item = clearing_item_record(
                        setl_id=new_setl_id("S"),
                        kind="settlement",
                        payer="340000",
                        payee="310000",
                        clr_amt=Decimal("1.00"),
                        fixmedins_code="H1",
                    )
                    time.sleep(0.01)  # hold the shared cycle lock a little: the cut must wait
                written.append((item.setl_id, item.clr_date))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    writers = [threading.Thread(target=writer) for _ in range(3)]
    for w in writers:
        w.start()
    time.sleep(0.5)
    closed = cycle_close(clr_date=day, actor="t")
    time.sleep(0.3)
    stop.set()
    for w in writers:
        w.join()
    assert errors == []
    stored = dict(ClearingItem.objects.values_list("setl_id", "clr_date"))
    assert dict(written) == stored  # each committed item is where its writer was told, once
    in_day = [s for s, d in written if d == day]
    after = [s for s, d in written if d == day + dt.timedelta(days=1)]
    assert in_day and after and len(in_day) + len(after) == len(written)
    head = closed.head
    assert head.tree_size == len(in_day) == ClearingItem.objects.filter(clr_date=day).count()
    assert head.merkle_root == cycle_figures(day).merkle_root.hex()  # nothing joined after the cut


def _worker(queue: str, delay: float, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.clearing.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4",
        "CLEARING_CLOSE_TEST_DELAY": str(delay),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_killed_mid_close_then_redelivered(tmp_path, monkeypatch):
    from celery import Celery

    # Celery prefers CELERY_BROKER_URL from the environment over ``broker=`` (CI exports it): pin
    # the sender to the same private Redis db the test's workers listen on.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/4")
    load_prefunds()
    record_example_day()
    day = open_cycle_date()
    queue = f"close-test-{uuid.uuid4().hex[:8]}"
    # set_as_current=False: never the current app of later tests (their .delay() would come here)
    sender = Celery(broker="redis://127.0.0.1:6379/4", set_as_current=False)
    sender.conf.broker_transport_options = {"visibility_timeout": 3}
    log = tmp_path / "worker.log"
    first = _worker(queue, 60, log)
    try:
        sender.send_task("clearing.tasks.close_cycle", args=[day.isoformat(), "celery-test"], queue=queue)
        assert _wait(
            lambda: Cycle.objects.filter(clr_date=day, status="cut", closed_at__isnull=False).exists(), 60
        ), log.read_text()
        time.sleep(2)  # inside the close transaction, sleeping after the head row was written
        cut = Cycle.objects.get(clr_date=day)
        os.killpg(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    time.sleep(1)
    assert Cycle.objects.get(clr_date=day).status == "cut" and not CycleHead.objects.exists()
    second = _worker(queue, 0, log)
    try:
        assert _wait(lambda: Cycle.objects.filter(clr_date=day, status="closed").exists(), 90), (
            log.read_text()
        )
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/4").delete(queue)
    cycle = Cycle.objects.get(clr_date=day)
    assert (cycle.closed_at, cycle.key_id) == (cut.closed_at, cut.key_id)
    head = CycleHead.objects.get()
    expected = canonical_bytes(
        head_document(
            clr_date=day, closed_at=cut.closed_at, figures=cycle_figures(day), prev_head_sha256="0" * 64
        )
    )
    assert bytes(head.canonical) == expected
    assert bytes(cycle_close(clr_date=day, actor="again").head.canonical) == expected
    assert Statement.objects.count() == 4
    text = log.read_text()
    assert "close paused" in text and text.count("clearing.tasks.close_cycle") >= 2, text
