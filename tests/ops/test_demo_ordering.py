"""The main job's ordering rule (issue 14 §5): whatever the thread timing, each person's settlements
are submitted in one fixed order, so the figures for a seed are the same on any database.
Pure: the HTTP layer is replaced by a recorder that sleeps at random to shuffle the threads."""
from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import defaultdict

from demo import submit
from demo.day import plan_day
from demo.network import build_network

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)


class _Resp:
    status_code = 200

    def __init__(self, n: int) -> None:
        self.n = n

    def json(self) -> dict:
        return {"results": [{"status": 201, "setlinfo": {}}] * self.n}


def _day():
    net = build_network(persons=120, seed=7, today=NOW.date())
    return plan_day(net, 400, runtag="t", now=NOW, seed=8)


def test_every_person_is_in_exactly_one_lane():
    day = _day()
    lanes = submit.lanes_of(day, batch_size=50, lanes=3)
    seen: dict[str, int] = {}
    count = 0
    for index, units in enumerate(lanes):
        for _, items in units:
            for p in items:
                assert seen.setdefault(p.person.psn_no, index) == index
                count += 1
    assert count == len(day.items) and len(set(seen.values())) == 3


def _per_person_order(day, monkeypatch, rng: random.Random) -> dict[str, list[int]]:
    order: dict[str, list[int]] = defaultdict(list)
    by_serial = {p.body["medins_setl_id"]: p for p in day.items}
    lock = threading.Lock()

    def fake_send(api, client, method, target, obj, attempts=5):  # noqa: ANN001, ANN202
        bodies = obj["items"] if "items" in obj else [obj]
        with lock:
            delay = rng.random() / 500
        time.sleep(delay)  # reorders the threads differently in every run
        with lock:
            for body in bodies:
                p = by_serial[body["medins_setl_id"]]
                order[p.person.psn_no].append(p.seq)
        return _Resp(len(bodies)) if "items" in obj else _SingleResp()

    monkeypatch.setattr(submit, "send", fake_send)
    clients = {p.institution.code: object() for p in day.items}
    outcomes = submit.submit_day(None, clients, day, batch_size=20, threads=4, progress=lambda n: None)
    assert len(outcomes) == len(day.items)
    return dict(order)


class _SingleResp:
    status_code = 201
    content = b"{}"
    headers: dict[str, str] = {}

    def json(self) -> dict:
        return {"setlinfo": {}}


def test_each_persons_order_is_the_same_under_any_thread_timing(monkeypatch):
    day = _day()
    first = _per_person_order(day, monkeypatch, random.Random(1))
    second = _per_person_order(day, monkeypatch, random.Random(2))
    assert first == second
    assert sum(len(v) for v in first.values()) == len(day.items)
    assert any(len(v) > 1 for v in first.values())  # some persons settle more than once: the rule matters
