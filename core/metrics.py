"""Prometheus metrics (spec/operations.md §Observability), with ``prometheus-client``.

Application code records what happened through the small functions below; it never touches
``prometheus_client`` itself, so label names stay in one place::

    from core import metrics
    metrics.settlement_recorded(code="")               # accepted ("" → "ok")
    metrics.settlement_recorded(code="not_insured")    # refused with that problem code
    metrics.gateway_call_recorded(infno="2207", infcode="0")
    metrics.acceptance_recorded(code="ok")
    metrics.cycle_close_recorded(scheme="medical", seconds=12.5, items=20000)

Values read from the database at scrape time (audit records unsealed, prefund levels, cycles not
closed, deny-list age) are registered once, e.g. in an ``AppConfig.ready``, with
:func:`register_gauge`: the function is called on every scrape and returns ``{labels: value}``.

Several processes (gunicorn workers, Celery): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory shared by them before they start; ``/metrics`` then sums every process's counters
(``prometheus_client.multiprocess``). Without it each process reports its own.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger("kuasheng.metrics")

# Latency buckets in seconds: API calls are tens of ms; a close of millions of items takes minutes.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CLOSE_BUCKETS = (0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)

HTTP_REQUESTS = Counter("kuasheng_http_requests", "HTTP requests answered, per route pattern and status.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("kuasheng_http_request_duration_seconds",
                         "Time to answer an HTTP request, per route pattern.", ["method", "route"],
                         buckets=HTTP_BUCKETS)
SETTLEMENTS = Counter("kuasheng_settlements", "Settlement requests decided: code ok = recorded, "
                      "else the problem code of the refusal.", ["code"])
GATEWAY_CALLS = Counter("kuasheng_gateway_calls", "NHSA gateway calls per infno and answered infcode.",
                        ["infno", "infcode"])
ACCEPTANCES = Counter("kuasheng_card_acceptances", "Card acceptance records per result code.", ["code"])
CLOSE_SECONDS = Histogram("kuasheng_cycle_close_duration_seconds", "Wall time of a cycle close.",
                          ["scheme"], buckets=CLOSE_BUCKETS)
CLOSE_ITEMS = Counter("kuasheng_cycle_close_items", "Items in closed cycles (tree_size summed).", ["scheme"])
CELERY_TASKS = Counter("kuasheng_celery_tasks", "Celery task outcomes (success, failure, retry, revoked).",
                       ["task", "outcome"])
SCRAPE_ERRORS = Counter("kuasheng_metrics_source_errors", "Scrape-time gauge sources that raised.",
                        ["gauge"])


def settlement_recorded(*, code: str = "") -> None:
    """One settlement decided: ``code`` empty (or ``ok``) when recorded, else the refusal's code."""
    SETTLEMENTS.labels(code=code or "ok").inc()


def gateway_call_recorded(*, infno: str, infcode: str) -> None:
    """One NHSA gateway call answered (``infcode`` ``0`` = success, spec/nhsa-gateway.md)."""
    GATEWAY_CALLS.labels(infno=infno, infcode=infcode).inc()


def acceptance_recorded(*, code: str) -> None:
    """One card acceptance record decided (``ok`` or the refusal's code, spec/cards.md)."""
    ACCEPTANCES.labels(code=code or "ok").inc()


def cycle_close_recorded(*, scheme: str, seconds: float, items: int) -> None:
    """One cycle closed: its wall time in seconds and its number of items."""
    CLOSE_SECONDS.labels(scheme=scheme).observe(seconds)
    CLOSE_ITEMS.labels(scheme=scheme).inc(items)


def task_outcome_recorded(*, task: str, outcome: str) -> None:
    CELERY_TASKS.labels(task=task, outcome=outcome).inc()


def http_request_recorded(*, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_LATENCY.labels(method=method, route=route).observe(seconds)


# --- gauges read at scrape time --------------------------------------------------------------------
GaugeSource = Callable[[], Mapping[tuple[str, ...], float]]


@dataclass(frozen=True)
class _Gauge:
    name: str
    documentation: str
    labels: tuple[str, ...]
    source: GaugeSource


_gauges: dict[str, _Gauge] = {}


def register_gauge(name: str, documentation: str, source: GaugeSource, labels: Iterable[str] = ()) -> None:
    """Register (or replace) a gauge computed when ``/metrics`` is scraped.

    ``source()`` returns ``{(label values…): value}``; ``{(): v}`` for a gauge without labels. A
    source that raises is skipped for that scrape and counted in ``kuasheng_metrics_source_errors``.
    """
    _gauges[name] = _Gauge(name, documentation, tuple(labels), source)


class _ScrapeTimeCollector(Collector):
    def collect(self) -> Iterable[GaugeMetricFamily]:
        for gauge in list(_gauges.values()):
            try:
                values = gauge.source()
            except Exception:  # noqa: BLE001 - one broken source must not hide the others
                logger.exception("metrics source %s failed", gauge.name)
                SCRAPE_ERRORS.labels(gauge=gauge.name).inc()
                continue
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            for label_values, value in sorted(values.items()):
                family.add_metric(list(label_values), float(value))
            yield family


def exposition() -> bytes:
    """The Prometheus text format of every metric: this process's (or, with
    ``PROMETHEUS_MULTIPROC_DIR``, every process's) counters plus the scrape-time gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(_ScrapeTimeCollector())
    return generate_latest(registry) + generate_latest(scrape)
