"""Published cycle state follows the clock, and an interrupted close resumes (issue 10 §6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from clearing.models import Cycle, CycleHead
from clearing.services.close import _cut, cycle_close
from clearing.services.cycles import SHANGHAI, open_cycle_date
from clearing.tasks import CLOSE_LIMITS, close_cut_cycles
from tests.clearing.helpers import load_prefunds, record_example_day, staff_client

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=SHANGHAI)


def test_just_after_midnight_d_is_cut_and_exactly_one_cycle_is_open(monkeypatch):
    """Before: at 00:00:05 of D+1, with no job run, the list showed D ``open`` (and no D+1)."""
    day = open_cycle_date()
    record_example_day()
    monkeypatch.setattr(timezone, "now", lambda: at(day + dt.timedelta(days=1), 0, 0, 5))
    bureau = staff_client("bureau", "340000")
    rows = bureau.get("/api/v1/cycles").json()["results"]
    assert [(r["clr_date"], r["status"]) for r in rows] == [
        (day.isoformat(), "cut"), ((day + dt.timedelta(days=1)).isoformat(), "open")]
    assert bureau.get(f"/api/v1/cycles/{day}").json()["status"] == "cut"
    assert Cycle.objects.get(clr_date=day).status == "open"  # the row moves when the close cuts it


def test_a_close_left_cut_by_a_killed_worker_resumes_at_the_next_beat_run(monkeypatch):
    """A SIGKILLed worker leaves D ``cut`` with ``closed_at`` fixed and nothing of the close written
    (its transaction died with it). Before: only the broker's redelivery after the 1 h visibility
    timeout finished it; the 00:30 job ran once a day. Now beat sends the idempotent close every
    5 min and each run closes every cut cycle whose close time has passed."""
    load_prefunds()
    day = open_cycle_date()
    record_example_day()
    monkeypatch.setattr(timezone, "now", lambda: at(day + dt.timedelta(days=1), 0, 29))
    assert close_cut_cycles.delay().get() == []  # before 00:30: not due yet
    killed = _cut(day, "celery-beat")  # what the killed worker had committed
    assert (killed.status, CycleHead.objects.count()) == ("cut", 0)
    monkeypatch.setattr(timezone, "now", lambda: at(day + dt.timedelta(days=1), 0, 35))
    assert close_cut_cycles.delay().get() == [day.isoformat()]
    closed = Cycle.objects.get(clr_date=day)
    assert (closed.status, closed.closed_at, closed.key_id) == ("closed", killed.closed_at, killed.key_id)
    assert close_cut_cycles.delay().get() == []  # the later runs (and a redelivery) are no-ops
    assert bytes(cycle_close(clr_date=day, actor="again").head.canonical) == bytes(closed.head.canonical)


def test_visibility_timeout_is_sized_to_the_close_task():
    """Above the task's hard limit (never redelivered while running), and within minutes of it."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert CLOSE_LIMITS == {"soft_time_limit": 600, "time_limit": 660}
    assert timeout == 900 and timeout > CLOSE_LIMITS["time_limit"]
    assert close_cut_cycles.soft_time_limit == 600 and close_cut_cycles.time_limit == 660
