"""``manage.py rotate_keys [--batch N] [--retire KID]`` (spec/security.md §Personal data at rest).

Without ``--retire``: re-encrypts every personal-data value and client secret under the newest
key of ``SETTLEMENT_ENCRYPTION_KEYS``, in batches, resumable. With ``--retire KID``: only checks
that no value is still encrypted under ``KID`` (exit 1 with a message if any is), so the operator
may then remove it from the settings."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.services.keys import key_retire_check, key_usage, keys_rotate
from core.crypto import KeyError_
from core.errors import DomainError
from core.principals import Principal


class Command(BaseCommand):
    help = "Re-encrypt personal data under the newest key; --retire KID checks KID is no longer used."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("--batch", type=int, default=1000, help="rows per transaction (default 1000)")
        parser.add_argument("--retire", metavar="KID", help="refuse (exit 1) while any value is under KID")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003, ANN201
        principal = Principal(role="clearing_staff", actor="manage.py rotate_keys")
        if options["retire"]:
            try:
                key_retire_check(key_id=options["retire"], principal=principal)
            except DomainError as e:
                raise CommandError(f"refusing to retire {options['retire']}: {e.detail}") from None
            self.stdout.write(f"key {options['retire']} encrypts nothing: it may be removed from "
                              "SETTLEMENT_ENCRYPTION_KEYS")
            return
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        try:
            report = keys_rotate(batch=options["batch"], principal=principal)
        except KeyError_ as e:
            raise CommandError(str(e)) from None
        for label, n in sorted(report.rows.items()):
            self.stdout.write(f"{label}: {n} rows re-encrypted")
        usage = ", ".join(f"{k}={n}" for k, n in sorted(key_usage().items())) or "none"
        self.stdout.write(f"rotated {report.values} values to key {report.key_id}; values per key: {usage}")
