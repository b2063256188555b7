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
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()] if out.exists() else []
    assert len(runs) == 1, (runs, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc, runs[0]


def test_each_run_writes_under_its_own_directory_and_says_so(demo_run):
    proc, run = demo_run
    assert run.name.endswith("-sqlite-seed2026-n200")
    assert f"This run writes its files under {run}/" in proc.stdout
    assert (run.parent / "latest").resolve() == run.resolve()


def test_try_it_logins_work(demo_run):
    """The logins printed at the end let a newcomer in: the cardholder has records, the card-only
    holder has cleared card uses and no person, the bureau and staff users get tokens (checked
    against the demo's own database)."""
    proc, run = demo_run
    text = proc.stdout.split("\nTry it\n", 1)[1]
    fields = {}
    for line in text.splitlines():
        words = line.split()
        for key in ("certno", "user", "password"):
            if key in words:
                fields.setdefault(line.split(":")[0].strip(), {})[key] = words[words.index(key) + 1]
    cardholder, bureau = fields["Cardholder pages"], fields["Bureau dashboard"]
    staff, card_only = fields["Admin (staff)"], fields["Card-only holder"]
    assert "/bureau/" in text and "/admin/" in text and "/api/docs/" in text and str(run) in text
    script = (
        "import django; django.setup()\n"
        "from accounts.services import staff_token_issue\n"
        "from cardholder.services import cardholder_authenticate\n"
        f"p = cardholder_authenticate(certno={cardholder['certno']!r}, password={cardholder['password']!r}, "
        "address='127.0.0.1', channel='api').person\n"
        "from settlement.models import Settlement\n"
        "print('records', Settlement.objects.filter(person=p).count())\n"
        f"h = cardholder_authenticate(certno={card_only['certno']!r}, password={card_only['password']!r}, "
        "address='127.0.0.1', channel='api')\n"
        "from cards.models import Acceptance\n"
        "print('card-only', h.person is None, Acceptance.objects.filter(card__certno_bidx=h.certno_bidx, "
        "cleared=True).count())\n"
        f"staff_token_issue(username={bureau['user']!r}, password={bureau['password']!r})\n"
        f"staff_token_issue(username={staff['user']!r}, password={staff['password']!r})\n"
        "print('logins ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env["SQLITE_PATH"] = str(run.parents[1] / "demo.sqlite3")
    check = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE":
                           "config.settings"}, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-2000:]
    records = int(check.stdout.split("records ")[1].split()[0])
    assert records >= 1 and "logins ok" in check.stdout
    card_only_person, card_uses = check.stdout.split("card-only ")[1].split()[:2]
    assert card_only_person == "True" and int(card_uses) >= 1  # a card-only holder with cleared uses


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
    assert "manage.py verify_audit" in [v["check"] for v in summary["verifications"]]  # sealed, then checked
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


FIGURES = ("item_cnt", "gross", "net_funding", "netting_efficiency", "tree_size", "net_positions")


@pytest.mark.postgres
@pytest.mark.slow
def test_demo_on_postgresql_with_a_real_worker(tmp_path, demo_run):
    """The same command on PostgreSQL (a scratch database beside ``DATABASE_URL``); with
    ``CELERY_BROKER_URL`` set the close runs in a real Celery worker started by the demo. The same
    seed gives the same figures as the SQLite run (the ordering rule of ``demo.submit.lanes_of``)."""
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
        proc = subprocess.run(py + ["demo", "--settlements", "200", "--out", str(out), "--no-progress",
                                    "--threads", "4"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        summary = json.loads((out / "latest" / "summary.json").read_text())
        assert summary["database"] == "postgresql"
        assert summary["celery"] is bool(os.environ.get("CELERY_BROKER_URL"))
        assert summary["problems"] == [] and summary["cross_checks"]["sum_net"] == "0.00"
        sqlite = json.loads((demo_run[1] / "summary.json").read_text())
        assert sqlite["database"] == "sqlite"
        assert {k: summary["head"][k] for k in FIGURES} == {k: sqlite["head"][k] for k in FIGURES}
        assert summary["calibration"] == sqlite["calibration"]
    finally:
        drop(base, name)


def test_card_day_readers_charge_what_the_same_city_rules_say(demo_run):
    """The card day on a fresh database (``manage.py demo`` without ``make demo``'s example import)
    loads the same-city rules its readers apply: no ``benefit_mismatch`` (there were 2 at this size
    when the day assumed the example rules were already loaded)."""
    proc, _ = demo_run
    answered = next(line for line in proc.stdout.splitlines() if "taps and entries answered" in line)
    assert "201" in answered and "benefit_mismatch" not in answered, answered
