"""cycle_for_write keeps the open date per process and still never writes into a cut cycle
(spec/clearing.md §Cycles): the date it remembered is confirmed under the lock, else found again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from clearing.models import Cycle
from clearing.services import cycles
from clearing.services.cycles import business_day, cycle_for_write, cycle_transition

pytestmark = pytest.mark.django_db


def _open() -> dt.date:
    with transaction.atomic():
        return cycle_for_write().clr_date


def test_remembered_date_moves_on_after_a_cut():
    today = business_day()
    assert _open() == today and cycles._open_dates[cycles.MEDICAL] == today
    with transaction.atomic():
        cycle_transition(Cycle.objects.get(clr_date=today), Cycle.Status.CUT, actor="test")
    assert _open() == today + dt.timedelta(days=1)  # the early close: next business day
    assert Cycle.objects.get(clr_date=today + dt.timedelta(days=1)).status == Cycle.Status.OPEN


def test_a_remembered_date_that_is_not_the_open_one_is_not_used():
    today = business_day()
    later = today + dt.timedelta(days=3)
    Cycle.objects.create(clr_date=later, status=Cycle.Status.OPEN)  # open, but not the open date
    cycles._open_dates[cycles.MEDICAL] = later
    assert _open() == today
    cycles._open_dates[cycles.MEDICAL] = today - dt.timedelta(days=1)  # yesterday's: stale
    Cycle.objects.create(clr_date=today - dt.timedelta(days=1), status=Cycle.Status.OPEN)
    assert _open() == today
