"""``manage.py seal_audit``: seal committed audit records now (the beat task does it every 5 s)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.audit import audit_seal


class Command(BaseCommand):
    help = "Links every committed, unsealed audit record into the hash chain; prints how many."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"sealed={audit_seal()}")
