"""``manage.py demo`` end to end on a fresh embedded database (SQLite, eager Celery): the real
service under gunicorn, signed HTTP, the close, the report and the independent verifications."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    tmp = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env["SQLITE_PATH"] = str(tmp / "demo.sqlite3")
    py = [sys.executable, "manage.py"]
    subprocess.run(py + ["migrate", "--no-input"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = tmp / "out"
    proc = subprocess.run(
        py + ["demo", "--settlements", "200", "--out", str(out), "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, out


def test_demo_completes_and_nets_to_zero(demo_run):
    proc, out = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == []
    assert summary["cross_checks"]["sum_net"] == "0.00"
    assert summary["cross_checks"]["gross_matches"] is True
    assert summary["tree_size"] == summary["accepted"]  # refusals added nothing
    assert all(c["got"] == c["expected"] for c in summary["refusals"])
    assert len(summary["refusals"]) == 20
    assert all(v["ok"] for v in summary["verifications"])
    assert "Σ net positions = 0.00" in proc.stdout


def test_out_files_exist_and_verify(demo_run):
    proc, out = demo_run
    summary = json.loads((out / "summary.json").read_text())
    d = summary["head"]["clr_date"]
    key = load_pem_public_key(next(out.glob("key-*.pem")).read_bytes())
    head = (out / f"head-{d}.json").read_bytes()
    key.verify((out / f"head-{d}.sig").read_bytes(), head)  # raises when invalid
    assert json.loads(head) == summary["head"]
    statements = sorted(out.glob(f"statement-{d}-*.json"))
    assert len(statements) == 32
    total = Decimal("0.00")
    for path in statements:
        key.verify(path.with_suffix(".sig").read_bytes(), path.read_bytes())
        total += Decimal(json.loads(path.read_bytes())["net"])
    assert total == Decimal("0.00")
    assert (out / f"net-positions-{d}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    receipt = json.loads(next(out.glob("receipt-*.json")).read_bytes())
    assert json.loads(receipt["leaf"])["setl_id"] == summary["receipt_setl_id"]


@pytest.mark.postgres
@pytest.mark.slow
def test_demo_on_postgresql_with_a_real_worker(tmp_path):
    """The same command on PostgreSQL (a scratch database beside ``DATABASE_URL``); with
    ``CELERY_BROKER_URL`` set the close runs in a real Celery worker started by the demo."""
    from urllib.parse import urlparse

    from bench.close import db_url, drop, recreate

    base = os.environ["DATABASE_URL"]
    name = urlparse(base).path.lstrip("/") + "_demo_test"
    recreate(base, name)
    try:
        env = dict(os.environ, DATABASE_URL=db_url(base, name))
        py = [sys.executable, "manage.py"]
        subprocess.run(py + ["migrate", "--no-input"], cwd=ROOT, env=env, check=True, capture_output=True)
        out = tmp_path / "out"
        proc = subprocess.run(py + ["demo", "--settlements", "150", "--out", str(out), "--no-progress"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["database"] == "postgresql"
        assert summary["celery"] is bool(os.environ.get("CELERY_BROKER_URL"))
        assert summary["problems"] == [] and summary["cross_checks"]["sum_net"] == "0.00"
    finally:
        drop(base, name)
