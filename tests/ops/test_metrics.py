"""``/metrics`` (spec/operations.md §Observability): protected, Prometheus text format, the series
the spec lists, and counters that move when the application records something."""
from __future__ import annotations

import pytest
from django.test import Client, override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core import metrics
from tests.cardholder.conftest import close_today, settle  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _families(body: bytes) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(body.decode())}


def test_metrics_needs_staff_or_scrape_token(staff_client):
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    assert staff_client("bureau", "310000").get("/metrics").status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Bearer guessed"}).status_code == 401
    staff = staff_client("clearing_staff", "000000").get("/metrics")
    assert staff.status_code == 200
    assert staff["Content-Type"].startswith("text/plain; version=0.0.4")
    with override_settings(METRICS_SCRAPE_TOKEN="scrape-secret-0123456789"):
        scraper = Client().get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
        wrong = Client().get("/metrics", headers={"Authorization": "Bearer scrape-secret-012345678"})
    assert scraper.status_code == 200
    assert wrong.status_code == 401


def test_request_counter_per_route_pattern(staff_client):
    labels = {"method": "GET", "route": "healthz", "status": "200"}
    before = _sample("kuasheng_http_requests_total", **labels)
    Client().get("/healthz")
    Client().get("/healthz")
    assert _sample("kuasheng_http_requests_total", **labels) == before + 2
    # a concrete id never becomes a label: the pattern does
    Client().get("/api/v1/settlements/S123")
    body = staff_client("clearing_staff", "000000").get("/metrics").content
    assert b"S123" not in body
    assert b'route="api/v1/settlements/<str:setl_id>"' in body or b"route=\"unmatched\"" in body
    assert b"kuasheng_http_request_duration_seconds_bucket" in body


def test_settlements_and_close_are_counted(examples, settle, staff_client):  # noqa: F811
    ok, refused = _sample("kuasheng_settlements_total", code="ok"), \
        _sample("kuasheng_settlements_total", code="not_insured")
    closes = _sample("kuasheng_cycle_close_duration_seconds_count", scheme="medical")
    items = _sample("kuasheng_cycle_close_items_total", scheme="medical")
    settle("E1")
    settle("E2a")
    close_today()
    assert _sample("kuasheng_settlements_total", code="ok") == ok + 2
    assert _sample("kuasheng_settlements_total", code="not_insured") == refused
    assert _sample("kuasheng_cycle_close_duration_seconds_count", scheme="medical") == closes + 1
    assert _sample("kuasheng_cycle_close_items_total", scheme="medical") == items + 2

    families = _families(staff_client("clearing_staff", "000000").get("/metrics").content)
    balances = {s.labels["admdvs"]: s.value for s in families["kuasheng_prefund_balance_yuan"]}
    baselines = {s.labels["admdvs"]: s.value for s in families["kuasheng_prefund_baseline_yuan"]}
    assert set(balances) == set(baselines) and balances
    assert families["kuasheng_cycles_unclosed_past"][0].value == 0.0
    assert "kuasheng_cycle_last_closed_age_seconds" in families
    # the settlements and the close wrote audit records; nothing ran the sealer
    from core.models import AuditRecord

    unsealed = AuditRecord.objects.filter(seal_seq__isnull=True).count()
    assert unsealed > 0
    assert families["kuasheng_audit_unsealed_records"][0].value == float(unsealed)


def test_refusal_code_counted_in_batch(examples, institution_client):
    before = _sample("kuasheng_settlements_total", code="invalid")
    client = institution_client("H31010400001")
    resp = client.post("/api/v1/settlements/batch", {"items": [{"medins_setl_id": "X-1"}]})
    assert resp.status_code == 200
    assert resp.json()["results"][0]["status"] == 400
    assert _sample("kuasheng_settlements_total", code="invalid") == before + 1


def test_business_refusals_and_replays_counted_once(examples, institution_client):
    from accounts.certno import check_char
    from tests.cardholder.conftest import settle_request

    client = institution_client("H31010400001")
    body = settle_request("E1")
    unknown = "11010519800101001"
    stranger = {**settle_request("E1"), "mdtrt_cert_no": unknown + check_char(unknown)}
    before = {c: _sample("kuasheng_settlements_total", code=c) for c in ("ok", "replayed", "unknown_person")}
    assert client.post("/api/v1/settlements", body).status_code == 201
    assert client.post("/api/v1/settlements", body).status_code == 200
    assert client.post("/api/v1/settlements", stranger).status_code == 422
    again = stranger | {"medins_setl_id": "X-stranger-2"}
    resp = client.post("/api/v1/settlements/batch", {"items": [again]})
    assert resp.json()["results"][0]["problem"]["code"] == "unknown_person"
    after = {c: _sample("kuasheng_settlements_total", code=c) for c in before}
    assert {c: after[c] - before[c] for c in before} == {"ok": 1, "replayed": 1, "unknown_person": 2}


def test_hooks_for_other_apps_and_scrape_time_gauges(staff_client):
    metrics.gateway_call_recorded(infno="2207", infcode="0")
    metrics.acceptance_recorded(code="card_lost")
    metrics.register_gauge("kuasheng_test_deny_list_age_seconds", "test gauge",
                           lambda: {("card",): 42.0}, labels=["scheme"])
    metrics.register_gauge("kuasheng_test_broken", "raises", lambda: 1 / 0)
    try:
        families = _families(staff_client("clearing_staff", "000000").get("/metrics").content)
    finally:
        metrics._gauges.pop("kuasheng_test_deny_list_age_seconds")
        metrics._gauges.pop("kuasheng_test_broken")
    assert [s.value for s in families["kuasheng_test_deny_list_age_seconds"]] == [42.0]
    assert "kuasheng_test_broken" not in families  # skipped, counted, the others still answer
    assert _sample("kuasheng_metrics_source_errors_total", gauge="kuasheng_test_broken") >= 1
    assert _sample("kuasheng_gateway_calls_total", infno="2207", infcode="0") >= 1
    assert _sample("kuasheng_card_acceptances_total", code="card_lost") >= 1


def test_celery_task_outcomes_counted():
    from core.tasks import seal_audit

    labels = {"task": "core.tasks.seal_audit", "outcome": "success"}
    before = _sample("kuasheng_celery_tasks_total", **labels)
    seal_audit.apply()
    assert _sample("kuasheng_celery_tasks_total", **labels) == before + 1


def test_several_processes_add_up_with_a_multiprocess_dir(tmp_path):
    """gunicorn workers and Celery each count in their own process; with PROMETHEUS_MULTIPROC_DIR the
    exposition of any one of them adds up all (docs/operations.md)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    # core.metrics needs no Django: each process starts in a fraction of a second
    record = ("from core import metrics\n"
              "for _ in range({n}): metrics.settlement_recorded(code='ok')\n"
              "{tail}")
    first = subprocess.run([sys.executable, "-c", record.format(n=2, tail="")], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-1500:]
    show = "import sys; sys.stdout.write(metrics.exposition().decode())"
    second = subprocess.run([sys.executable, "-c", record.format(n=1, tail=show)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr[-1500:]
    families = _families(second.stdout.encode())
    values = [s.value for s in families["kuasheng_settlements"] if s.name == "kuasheng_settlements_total"
              and s.labels == {"code": "ok"}]
    assert values == [3.0]
