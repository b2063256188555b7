"""``manage.py verify_audit [--allow-unsealed]``: check the audit hash chain (spec/security.md §Audit).

Exit 0 only when every sealed record re-computes, the chain ends at the seal checkpoint, and no
record has waited for the sealer longer than ``settings.AUDIT_UNSEALED_MAX_AGE_SECONDS`` (an
unsealed record is protected by nothing; "OK" must not speak about records nobody checked).
``--allow-unsealed`` reports such records without failing (e.g. while the sealer is known to be
stopped). The output says what was checked: sealed records and their id range, unsealed records
and how old the oldest is.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.audit import AuditVerdict, audit_verify


def describe(verdict: AuditVerdict) -> str:
    """``checked=N (ids A..B) unsealed=M [stale=K] [oldest unsealed S s ago]``."""
    line = f"checked={verdict.checked}"
    if verdict.checked:
        line += f" (ids {verdict.first_id}..{verdict.last_id})"
    line += f" unsealed={verdict.unsealed}"
    if verdict.stale:
        line += f" stale={verdict.stale}"
    if verdict.oldest_unsealed_at is not None:
        age = (timezone.now() - verdict.oldest_unsealed_at).total_seconds()
        line += f" (oldest unsealed {age:.0f} s ago)"
    return line


class Command(BaseCommand):
    help = ("Re-computes every sealed audit record's hash; exit 0 when the chain is intact and no record "
            "waits unsealed longer than AUDIT_UNSEALED_MAX_AGE_SECONDS, 1 otherwise.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--allow-unsealed", action="store_true",
                            help="report old unsealed records without failing")

    def handle(self, *args: Any, **options: Any) -> None:
        max_age = None if options["allow_unsealed"] else settings.AUDIT_UNSEALED_MAX_AGE_SECONDS
        verdict = audit_verify(max_unsealed_age=max_age)
        line = describe(verdict)
        if not verdict.ok:
            at = f" at record id {verdict.first_bad_id}" if verdict.first_bad_id is not None else ""
            raise CommandError(f"audit chain BROKEN{at}: {verdict.reason} ({line})")
        self.stdout.write(f"audit chain OK: {line}")
