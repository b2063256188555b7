"""Command UX (issue 14 §6): plain errors, the trust anchor stated, ``close_cycle DATE`` and
``--force`` for the live cycle, ``generate_keys``, every missing production setting at once."""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.cardholder.conftest import settle  # noqa: F401 - fixture
from tests.core.test_production import ROOT, production_env

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def closed_documents(tmp_path, examples, settle):  # noqa: ANN001, ANN201, F811
    """A closed cycle's head, one statement and the public key written to files."""
    from clearing.models import Statement
    from core.crypto import signing_key
    from tests.cardholder.conftest import close_today

    settle("E1")
    cycle = close_today()
    head = cycle.head
    (tmp_path / "head.json").write_bytes(bytes(head.canonical))
    (tmp_path / "head.sig").write_bytes(bytes(head.signature))
    st = Statement.objects.filter(cycle=cycle).order_by("admdvs").first()
    (tmp_path / "statement.json").write_bytes(bytes(st.canonical))
    (tmp_path / "statement.sig").write_bytes(bytes(st.signature))
    (tmp_path / "key.pem").write_text(signing_key(head.key_id).public_pem())
    return tmp_path


def test_verifiers_state_their_trust_anchor(closed_documents):
    d = closed_documents
    with_key = _run("verify_statement", str(d / "statement.json"), "--sig", str(d / "statement.sig"),
                    "--key", str(d / "key.pem"))
    assert with_key.strip() == f"OK: signature valid (trusted key: {d / 'key.pem'} (given with --key))"
    local = _run("verify_statement", str(d / "head.json"), "--sig", str(d / "head.sig"))
    assert "this installation's own signing keys" in local and "not an independent check" in local


def test_verify_receipt_on_a_statement_names_it(closed_documents):
    d = closed_documents
    with pytest.raises(CommandError) as err:
        call_command("verify_receipt", str(d / "statement.json"), "--key", str(d / "key.pem"))
    message = str(err.value)
    assert message.startswith(f"{d / 'statement.json'} is a signed statement, not a receipt")
    assert "verify_statement" in message and "'leaf'" not in message


@pytest.mark.parametrize("args,expected", [
    (["verify_receipt", "{d}/nope.json"], "receipt {d}/nope.json: no such file"),
    (["verify_receipt", "{d}"], "receipt {d}: is a directory, not a file"),
    (["verify_receipt", "{d}/key.pem"], "{d}/key.pem: not a JSON file"),
    (["verify_receipt", "{d}/partial.json"],
     "{d}/partial.json is not a receipt: missing leaf_index, tree_size, audit_path, merkle_root, head, "
     "head_signature"),
    (["verify_statement", "{d}/statement.json", "--sig", "{d}/statement.sig", "--key", "{d}/head.json"],
     "key {d}/head.json: not an Ed25519 public key in PEM form"),
    (["verify_statement", "{d}/statement.json", "--sig", "{d}/missing.sig"],
     "signature {d}/missing.sig: no such file"),
])
def test_wrong_files_get_plain_errors(closed_documents, args, expected):
    d = closed_documents
    (d / "partial.json").write_text(json.dumps({"leaf": "{}"}))
    with pytest.raises(CommandError) as err:
        call_command(*[a.format(d=d) for a in args], stdout=io.StringIO())
    assert str(err.value).startswith(expected.format(d=d))


def test_close_cycle_positional_date_and_force_for_the_live_cycle():
    from clearing.models import Cycle
    from clearing.services.cycles import open_cycle_date

    live = open_cycle_date()
    with pytest.raises(CommandError, match=f"{live} is the live cycle.*--force"):
        call_command("close_cycle", live.isoformat())
    with pytest.raises(CommandError, match="is the live cycle"):
        call_command("close_cycle", "--date", live.isoformat())
    assert not Cycle.objects.filter(clr_date=live).exclude(status=Cycle.Status.OPEN).exists()
    with pytest.raises(CommandError, match="'2026-13-01' is not a date: use YYYY-MM-DD"):
        call_command("close_cycle", "2026-13-01")
    head = json.loads(_run("close_cycle", live.isoformat(), "--force"))
    assert head["clr_date"] == live.isoformat() and head["tree_size"] == 0
    assert Cycle.objects.get(clr_date=live).status == Cycle.Status.CLOSED
    # a past date (the next live one is D+1 now) closes without --force when given positionally
    assert "nothing to close" in _run("close_cycle")
    assert json.loads(_run("close_cycle", live.isoformat()))["clr_date"] == live.isoformat()  # idempotent
    later = live + dt.timedelta(days=3)
    with pytest.raises(CommandError, match="cycle_not_open"):
        call_command("close_cycle", later.isoformat())


def test_generate_keys_prints_a_block_production_starts_with():
    block = _run("generate_keys", "--host", "kuasheng.example")
    env = dict(line.split("=", 1) for line in block.splitlines() if line and not line.startswith("#"))
    assert {"DJANGO_ENV", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "SETTLEMENT_ENCRYPTION_KEYS",
            "SETTLEMENT_BLIND_INDEX_KEY", "CLEARING_SIGNING_KEY", "DATABASE_URL", "REDIS_URL",
            "CELERY_BROKER_URL", "METRICS_SCRAPE_TOKEN"} <= set(env)
    assert env["DJANGO_ALLOWED_HOSTS"] == "kuasheng.example"
    keys = {k: env[k] for k in ("DJANGO_ENV", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS",
                                "SETTLEMENT_ENCRYPTION_KEYS", "SETTLEMENT_BLIND_INDEX_KEY",
                                "CLEARING_SIGNING_KEY")}
    # On the embedded database: the suite's PostgreSQL role is a superuser, which check --deploy
    # rightly warns about (kuasheng.W001, tests/core/test_audit_sealing.py).
    prod_env = {**production_env(DATABASE_URL=""), **keys}
    proc = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=prod_env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-800:]


def test_production_lists_every_missing_setting_at_once():
    names = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "SETTLEMENT_ENCRYPTION_KEYS",
             "SETTLEMENT_BLIND_INDEX_KEY", "CLEARING_SIGNING_KEY")
    proc = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT,
                          env=production_env(**{n: "" for n in names}), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert "cannot start: 5 setting(s) missing" in proc.stderr
    for name in names:
        assert f"{name} must be set: " in proc.stderr
    assert "generate_keys" in proc.stderr


def test_import_reference_errors_are_plain(tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("import_reference", str(tmp_path / "nope"))
    with pytest.raises(CommandError, match="holds none of the reference files: regions.csv"):
        call_command("import_reference", str(tmp_path))
    assert Path(tmp_path).is_dir()


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.postgres
def test_ensure_database_creates_a_missing_database():
    """``make demo`` with DATABASE_URL naming a database that does not exist: created, no traceback."""
    import os
    import secrets
    from urllib.parse import urlparse

    from bench.close import db_url, drop

    base = os.environ["DATABASE_URL"]
    name = urlparse(base).path.lstrip("/") + "_ensure_" + secrets.token_hex(3)
    env = {**os.environ, "DATABASE_URL": db_url(base, name)}
    try:
        first = _manage("ensure_database", env=env)
        again = _manage("ensure_database", env=env)
    finally:
        drop(base, name)
    assert first.returncode == 0, first.stderr[-1500:]
    assert first.stdout.strip() == f"database: PostgreSQL {name} created (it did not exist)"
    assert again.stdout.strip() == f"database: PostgreSQL {name} exists"


def test_ensure_database_explains_an_unreachable_server():
    import os

    proc = _manage("ensure_database", env={**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"})
    assert proc.returncode == 1
    assert proc.stderr.startswith("CommandError: cannot reach PostgreSQL at 127.0.0.1:1 for database x:")
    assert "Traceback" not in proc.stderr


def test_accumulator_bar_of_a_zero_limit_is_not_drawn_full():
    from decimal import Decimal

    from cardholder.views import _bar

    assert _bar(Decimal("0.00"), Decimal("0.00")) is None
    assert _bar(Decimal("5.00"), Decimal("10.00")) == 50
    assert _bar(Decimal("20.00"), Decimal("10.00")) == 100
    assert _bar(Decimal("1.00"), None) is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_import_reference_and_close_cycle_show_progress_on_a_terminal(monkeypatch, tmp_path):
    import shutil

    from clearing.models import Cycle
    from clearing.services.cycles import open_cycle_date

    for name in ("regions.csv", "institutions.csv"):
        shutil.copy(ROOT / "data" / "examples" / name, tmp_path / name)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = _run("import_reference", str(tmp_path))
    assert "institutions.csv: received=" in out
    assert "importing" in terminal.getvalue() and "file" in terminal.getvalue()
    today = open_cycle_date()
    Cycle.objects.create(clr_date=today - dt.timedelta(days=2))
    terminal.truncate(0)
    _run("close_cycle")
    assert "closing" in terminal.getvalue() and "2/2" in terminal.getvalue()
