"""Audit sealing on every close path; ``verify_audit`` never says OK about records it did not
check; the ledger and audit tables refuse TRUNCATE; the deploy check on the database role
(issue 10 §2)."""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clearing.services.cycles import open_cycle_date
from core.audit import audit_log
from core.models import AuditRecord
from tests.clearing.helpers import load_prefunds, record_example_day, staff_client
from tests.core.test_production import ROOT, production_env

pytestmark = pytest.mark.django_db


def unsealed() -> int:
    return AuditRecord.objects.filter(seal_seq__isnull=True).count()


def test_close_command_seals_first():
    """Before: ``close_cycle`` left every record unsealed (``checked=0``)."""
    load_prefunds()
    record_example_day()
    audit_log(actor="c-1", role="institution", action="settle", object_type="settlement", object_id="S1")
    assert unsealed() > 0
    call_command("close_cycle", open_cycle_date().isoformat(), "--force", stdout=io.StringIO())
    assert unsealed() == 1  # only the close's own record, written after the seal
    assert AuditRecord.objects.get(seal_seq__isnull=True).action == "cycle_close"


def test_staff_close_endpoint_seals_first():
    load_prefunds()
    record_example_day()
    audit_log(actor="c-1", role="institution", action="settle", object_type="settlement", object_id="S1")
    staff = staff_client("clearing_staff", "000000")
    assert staff.post(f"/api/v1/cycles/{open_cycle_date()}/close").status_code == 202  # eager task
    assert list(AuditRecord.objects.filter(seal_seq__isnull=True).values_list("action", flat=True)) == [
        "cycle_close"]


def _old_unsealed(seconds: int) -> AuditRecord:
    r = audit_log(actor="c-1", role="institution", action="settle", object_type="settlement", object_id="S1")
    AuditRecord.objects.filter(pk=r.pk).update(at=timezone.now() - dt.timedelta(seconds=seconds))
    return r


def test_verify_audit_fails_on_unsealed_records_older_than_the_interval():
    """Before: ``audit chain OK: checked=0 unsealed=5347`` (exit 0) with nothing sealed."""
    _old_unsealed(120)
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", stdout=io.StringIO())
    assert str(exc.value) == ("audit chain BROKEN: 1 unsealed records are older than 60 s (the sealer is not "
                              "running?): their integrity was not checked (checked=0 unsealed=1 stale=1 "
                              "(oldest unsealed 120 s ago))")
    out = io.StringIO()
    call_command("verify_audit", "--allow-unsealed", stdout=out)
    assert out.getvalue().strip() == "audit chain OK: checked=0 unsealed=1 (oldest unsealed 120 s ago)"
    call_command("seal_audit", stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("audit chain OK: checked=1 (ids ")


def test_verify_audit_accepts_records_younger_than_the_interval():
    _old_unsealed(30)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == "audit chain OK: checked=0 unsealed=1 (oldest unsealed 30 s ago)"


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["clearing_journalleg", "clearing_journalentry", "core_auditrecord",
                                   "core_auditsealcheckpoint"])
def test_truncate_of_ledger_and_audit_tables_is_refused(table):
    """Before: ``TRUNCATE clearing_journalleg`` committed (legs gone, entries left)."""
    load_prefunds()
    record_example_day()
    call_command("close_cycle", open_cycle_date().isoformat(), "--force", stdout=io.StringIO())
    call_command("seal_audit", stdout=io.StringIO())
    from clearing.models import JournalLeg

    legs, records = JournalLeg.objects.count(), AuditRecord.objects.count()
    assert legs > 0 and records > 0
    with pytest.raises(DatabaseError, match=f"TRUNCATE of {table} is refused"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as after a commit: no pending ledger checks
            cur.execute(f"TRUNCATE {table} CASCADE")
    assert (JournalLeg.objects.count(), AuditRecord.objects.count()) == (legs, records)


def _check_deploy(database_url: str) -> subprocess.CompletedProcess[str]:
    env = production_env(DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.postgres
def test_check_deploy_warns_when_the_database_role_is_a_superuser():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone()[0] is True  # the suite's role is one
    proc = _check_deploy(url)
    assert proc.returncode != 0 and "kuasheng.W001" in proc.stderr + proc.stdout, proc.stderr
    role = f"ks_check_{uuid.uuid4().hex[:8]}"  # an ordinary role, committed outside the test's transaction
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        try:
            proc = _check_deploy(f"postgres://{role}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert "no issues" in proc.stdout
        finally:
            admin.execute(f"DROP ROLE {role}")
