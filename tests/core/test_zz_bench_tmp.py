import time
import pytest
from core.audit import audit_log, audit_seal, audit_verify
from core.models import AuditRecord
from django.utils import timezone

@pytest.mark.django_db
def test_bench():
    now = timezone.now()
    AuditRecord.objects.bulk_create([AuditRecord(at=now, actor="c", role="institution", action="settle",
        object_type="settlement", object_id=f"S{i}", detail={"n": i}) for i in range(20000)])
    t = time.monotonic(); n = audit_seal(); t1 = time.monotonic() - t
    t = time.monotonic(); v = audit_verify(); t2 = time.monotonic() - t
    print(f"\nsealed {n} in {t1:.2f}s; verified {v.checked} in {t2:.2f}s")
