"""``manage.py verify_audit``: check the audit hash chain (spec/security.md §Audit)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Re-computes every sealed audit record's hash; exit 0 when the chain is intact, 1 when broken."

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = audit_verify()
        line = f"checked={verdict.checked} unsealed={verdict.unsealed}"
        if not verdict.ok:
            at = f" at record id {verdict.first_bad_id}" if verdict.first_bad_id is not None else ""
            raise CommandError(f"audit chain BROKEN{at}: {verdict.reason} ({line})")
        self.stdout.write(f"audit chain OK: {line}")
