"""Celery queues (issue 15 item 5): the close, the audit sealer and periodic work are routed to
their own queues, and two real workers consuming the close queue at once close a day once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from clearing.models import Cycle, CycleHead, CycleTransition, PrefundPosting, Statement
from clearing.services.cycles import open_cycle_date
from config.celery import QUEUES, app
from tests.clearing.helpers import load_prefunds, record_example_day
from tests.reliability.harness import ThrowawayRedis, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("clearing.tasks.close_cycle", "close"),
        ("clearing.tasks.close_cut_cycles", "close"),
        ("core.tasks.seal_audit", "audit"),
        ("cards.tasks.refresh_deny_list", "periodic"),
        ("accounts.tasks.anything_else", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_without_q_consumes_every_queue():
    assert sorted(q.name for q in app.conf.task_queues) == sorted(QUEUES)


def _close_worker(broker: str, name: str, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.clearing.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CLEARING_CLOSE_TEST_DELAY": "1",  # each close holds its transaction 1 s: the two overlap
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "close", "-n",
           f"{name}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_close_queue_close_a_day_once(tmp_path, monkeypatch):
    """Four close messages sent through the routing (no queue named by the sender) to a private
    broker, two solo workers on ``close``: both take messages, the day has one head, four
    statements, one transition per state and one net posting per province with a net."""
    from celery import Celery

    load_prefunds()
    record_example_day()
    day = open_cycle_date()
    redis = ThrowawayRedis()
    redis.start()
    broker = redis.url(0)
    monkeypatch.setenv("CELERY_BROKER_URL", broker)  # Celery prefers the environment's broker
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [_close_worker(broker, f"w{i}", log) for i, log in enumerate(logs, 1)]
    try:
        assert wait_until(lambda: all("ready." in log.read_text() for log in logs), 90), [
            log.read_text() for log in logs
        ]
        sender = Celery(broker=broker, set_as_current=False)  # never the current app of later tests
        sender.conf.task_routes = app.conf.task_routes
        for _ in range(4):
            sender.send_task("clearing.tasks.close_cycle", args=[day.isoformat(), "queue-test"])
        done = lambda: sum(log.read_text().count("succeeded") for log in logs) == 4  # noqa: E731
        assert wait_until(done, 120), [log.read_text() for log in logs]
    finally:
        for w in workers:
            w.terminate()
            w.wait(20)
        redis.stop()
    assert all("succeeded" in log.read_text() for log in logs)  # both workers closed
    assert Cycle.objects.get(clr_date=day).status == "closed"
    assert CycleHead.objects.count() == 1 and Statement.objects.count() == 4
    assert sorted(CycleTransition.objects.values_list("to_status", flat=True)) == ["closed", "cut"]
    nets = PrefundPosting.objects.filter(kind=PrefundPosting.Kind.NET)
    assert nets.count() == len(set(nets.values_list("account_id", flat=True))) > 0
