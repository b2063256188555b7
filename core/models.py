"""Platform models: the hash-chained audit log (spec/security.md §Audit)."""
from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    """One audited write or person lookup. No personal data in clear.

    ``prev_hash``/``record_hash`` are filled by the sealer (``core.audit.audit_seal``) in id order:
    ``record_hash = SHA-256(prev_hash ‖ canonical JSON of the record's fields)``; unsealed rows have
    both empty. Writers never touch the chain head, so they never queue on it.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=100, help_text="client id, username or psn_no")
    role = models.CharField(max_length=30)
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=100)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    record_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.action} {self.object_type}:{self.object_id}"
