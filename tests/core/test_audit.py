"""Hash-chained audit log (spec/security.md §Audit; issue 7 §5)."""
from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.audit import GENESIS, audit_log, audit_principal, audit_seal, audit_verify
from core.models import AuditRecord, AuditSealCheckpoint
from core.principals import Principal

pytestmark = pytest.mark.django_db


def write(n: int) -> list[AuditRecord]:
    return [audit_log(actor="c-1", role="institution", action="settle", object_type="settlement",
                      object_id=f"S{i}", detail={"clr_amt": "10.00", "n": i}) for i in range(n)]


def verify_cmd() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue().strip()


def test_seal_links_records_in_order_and_verify_passes():
    rows = write(5)
    assert audit_seal() == 5
    sealed = list(AuditRecord.objects.order_by("seal_seq"))
    assert [r.seal_seq for r in sealed] == [1, 2, 3, 4, 5]
    assert [r.id for r in sealed] == [r.id for r in rows]
    assert sealed[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.record_hash for a, b in zip(sealed, sealed[1:], strict=False))
    head = AuditSealCheckpoint.objects.get()
    assert (head.last_seq, head.last_id, head.last_hash) == (5, rows[-1].id, sealed[-1].record_hash)
    verdict = audit_verify()
    assert (verdict.ok, verdict.checked, verdict.unsealed) == (True, 5, 0)
    assert audit_seal() == 0


def test_verify_audit_command_reports_checked_and_unsealed():
    first = write(3)
    audit_seal()
    write(2)
    assert verify_cmd() == (f"audit chain OK: checked=3 (ids {first[0].id}..{first[2].id}) unsealed=2 "
                            "(oldest unsealed 0 s ago)")


def test_seal_audit_command_prints_the_count():
    from io import StringIO

    write(4)
    out = StringIO()
    call_command("seal_audit", stdout=out)
    assert out.getvalue().strip() == "sealed=4"


def test_empty_log_verifies():
    assert verify_cmd() == "audit chain OK: checked=0 unsealed=0"


def test_sealing_in_small_batches_gives_the_same_chain():
    write(7)
    assert audit_seal(batch=3) == 7
    assert audit_verify().checked == 7


def test_audit_principal_records_actor_role_and_request_id():
    from core.middleware import request_id_var

    token = request_id_var.set("req-42")
    try:
        bureau = Principal(role="bureau", actor="ah-admin", admdvs="340000")
        r = audit_principal(bureau, "upload", "persons", "batch-1")
    finally:
        request_id_var.reset(token)
    assert (r.actor, r.role, r.action, r.object_type, r.object_id, r.request_id) == \
        ("ah-admin", "bureau", "upload", "persons", "batch-1", "req-42")
    system = audit_principal(None, "close", "cycle", "2026-11-27")
    assert (system.actor, system.role) == ("system", "system")


def test_edited_record_breaks_the_chain():
    rows = write(5)
    audit_seal()
    AuditRecord.objects.filter(id=rows[2].id).update(object_id="S999")
    verdict = audit_verify()
    assert (verdict.ok, verdict.first_bad_id, verdict.checked) == (False, rows[2].id, 2)
    with pytest.raises(CommandError, match="audit chain BROKEN at record id"):
        call_command("verify_audit")


def test_edited_detail_breaks_the_chain():
    rows = write(3)
    audit_seal()
    AuditRecord.objects.filter(id=rows[0].id).update(detail={"clr_amt": "99.00", "n": 0})
    assert audit_verify().first_bad_id == rows[0].id


def test_deleted_middle_record_breaks_the_chain():
    rows = write(5)
    audit_seal()
    AuditRecord.objects.filter(id=rows[2].id).delete()
    verdict = audit_verify()
    assert (verdict.ok, verdict.first_bad_id) == (False, rows[3].id)
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_deleted_first_record_breaks_the_chain():
    rows = write(3)
    audit_seal()
    AuditRecord.objects.filter(id=rows[0].id).delete()
    assert audit_verify().first_bad_id == rows[1].id


def test_deleted_last_record_is_detected_by_the_checkpoint():
    rows = write(5)
    audit_seal()
    AuditRecord.objects.filter(id=rows[-1].id).delete()
    verdict = audit_verify()
    assert (verdict.ok, verdict.checked, verdict.first_bad_id) == (False, 4, None)
    assert "checkpoint says #5" in verdict.reason
    with pytest.raises(CommandError, match="sealed records were deleted"):
        call_command("verify_audit")


def test_deleted_last_record_stays_detected_after_more_sealing():
    rows = write(3)
    audit_seal()
    AuditRecord.objects.filter(id=rows[-1].id).delete()
    write(2)
    audit_seal()
    assert audit_verify().ok is False


def test_deleting_every_sealed_record_is_detected():
    write(3)
    audit_seal()
    AuditRecord.objects.all().delete()
    assert audit_verify().ok is False


def test_relinking_the_chain_without_the_checkpoint_is_detected():
    """Deleting the last record and rewinding nothing else: the checkpoint row still says 5."""
    rows = write(5)
    audit_seal()
    AuditRecord.objects.filter(id=rows[-1].id).delete()
    AuditSealCheckpoint.objects.update(last_seq=4)
    assert audit_verify().ok is False


def test_record_committed_late_with_a_lower_id_is_sealed_at_the_end():
    """Ids are taken at insert, commits land in any order: a late low id must not break the chain."""
    late_id = write(1)[0].id
    AuditRecord.objects.filter(id=late_id).update(id=late_id + 1000)  # frees a lower id...
    write(2)
    audit_seal()
    AuditRecord.objects.create(id=late_id, at=AuditRecord.objects.first().at, actor="c-1", role="institution",
                               action="settle", object_type="settlement", object_id="LATE")
    assert audit_seal() == 1
    late = AuditRecord.objects.get(id=late_id)
    assert late.seal_seq == 4
    verdict = audit_verify()
    assert (verdict.ok, verdict.checked) == (True, 4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_keep_one_valid_chain():
    """Two sealers and a writer on separate connections: no interleaving, nothing lost."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(60):
                write(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            stop.set()
            connection.close()

    def sealer() -> None:
        try:
            while not stop.is_set():
                audit_seal(batch=7)
            audit_seal(batch=7)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=f) for f in (writer, sealer, sealer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    audit_seal()
    verdict = audit_verify()
    assert (verdict.ok, verdict.checked, verdict.unsealed) == (True, 60, 0)
    assert sorted(AuditRecord.objects.values_list("seal_seq", flat=True)) == list(range(1, 61))
