"""Clearing gauges read at scrape time for ``/metrics`` (spec/operations.md §Observability;
docs/operations.md has the alert rules that use them). Registered by ``ClearingConfig.ready``.

Money is exported as a float of yuan: Prometheus has no decimal type, and these values only feed
dashboards and alerts, never a figure anyone settles on.
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone

from core import metrics

Values = dict[tuple[str, ...], float]


def prefund_balances() -> Values:
    from clearing.models import PrefundAccount

    rows = PrefundAccount.objects.filter(scheme="medical").values_list("admdvs", "balance")
    return {(a,): float(b) for a, b in rows}


def prefund_baselines() -> Values:
    from clearing.models import PrefundAccount

    rows = PrefundAccount.objects.filter(scheme="medical").values_list("admdvs", "baseline")
    return {(a,): float(b) for a, b in rows}


def cycles_unclosed_past() -> Values:
    """Cycles of business days before today (Asia/Shanghai) that are not closed: 0 normally, ≥ 1 from
    00:00 until the 00:30 close finishes (spec/clearing.md §Cycles)."""
    from clearing.models import Cycle
    from clearing.services.cycles import business_day

    today = business_day()
    return {(): Cycle.objects.filter(clr_date__lt=today).exclude(status=Cycle.Status.CLOSED).count()}


def last_closed_age() -> Values:
    """Seconds since the latest closed cycle's business day ended (its next 00:00 Asia/Shanghai);
    absent (no sample) before the first close."""
    from clearing.models import Cycle
    from clearing.services.cycles import SHANGHAI

    last = Cycle.objects.filter(status=Cycle.Status.CLOSED).aggregate(m=Max("clr_date"))["m"]
    if last is None:
        return {}
    day_end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
    return {(): (timezone.now() - day_end).total_seconds()}


def register() -> None:
    metrics.register_gauge("kuasheng_prefund_balance_yuan", "Prefund account balance per province.",
                           prefund_balances, labels=["admdvs"])
    metrics.register_gauge("kuasheng_prefund_baseline_yuan", "Prefund baseline per province.",
                           prefund_baselines, labels=["admdvs"])
    metrics.register_gauge("kuasheng_cycles_unclosed_past", "Cycles of past business days not yet closed.",
                           cycles_unclosed_past)
    metrics.register_gauge("kuasheng_cycle_last_closed_age_seconds",
                           "Seconds since the latest closed business day ended.", last_closed_age)
